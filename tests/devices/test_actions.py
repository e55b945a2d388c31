"""A device's actions and the forms of their arguments: a call whose values are not of the
declared form is refused in the declaration's words (what ``kiosk act`` and a scenario's check
say), a call that works is never checked first (customers act all day), and a declaration that
names no parameter is refused when its class is made."""

from __future__ import annotations

import re

import pytest
import simpy
from pydantic import BaseModel

from devices.base import WHOLE_NUMBER, Arg, Device, action
from devices.registry import KINDS
from workbench.errors import DeviceError


class _Settings(BaseModel):
    pass


parsed: list[str] = []


def _counted_whole(text: str) -> int:
    parsed.append(text)
    return int(text)


COUNTED = Arg("a whole number", _counted_whole)


class Lift(Device[_Settings]):
    kind = "lift"

    @action("go", "Ride to FLOOR", floor=COUNTED)
    def go(self, floor: str) -> str:
        return f"at floor {int(floor)}"

    @action("press", "Press buttons", buttons=WHOLE_NUMBER)
    def press(self, *buttons: str) -> str:
        pressed = [WHOLE_NUMBER.parse(b) for b in buttons]
        return f"pressed {' '.join(map(str, pressed)) or 'nothing'}"

    @action("broken", "A handler with a bug", n=WHOLE_NUMBER)
    def broken(self, n: str) -> str:
        return str(int("not a number"))


def lift() -> Lift:
    return Lift(simpy.Environment(), _Settings(), [])


def test_a_value_not_of_its_form_is_refused_in_the_declaration_s_words() -> None:
    device = lift()
    with pytest.raises(DeviceError) as info:
        device.act("go", "up")
    assert str(info.value) == "lift go takes FLOOR, a whole number; given: up"
    assert device.wrong_arguments("go", ["up"]) == "go takes FLOOR, a whole number; given: up"
    with pytest.raises(
        DeviceError, match=r"^lift press takes \[BUTTONS...\], a whole number; given: 1 two$"
    ):
        device.act("press", "1", "two")
    assert device.act("press") == "pressed nothing"
    assert device.act("press", "1", "2") == "pressed 1 2"


def test_a_call_that_works_is_not_checked_first() -> None:
    device = lift()
    parsed.clear()
    assert device.act("go", "3") == "at floor 3"
    assert parsed == []  # the handler read its argument; no check ran before it
    with pytest.raises(DeviceError):
        device.act("go", "x")
    assert parsed == ["x"]  # checked once the handler had failed


def test_a_handler_s_own_error_is_raised_as_it_is_when_the_arguments_fit() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        lift().act("broken", "5")


def test_a_form_for_no_parameter_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match=r"action 'go'\) declares a form for flor: no parameter"):

        class Typo(Device[_Settings]):
            @action("go", "Ride to FLOOR", flor=WHOLE_NUMBER)
            def go(self, floor: str) -> str:
                return floor


@pytest.mark.parametrize(
    ("kind", "action_name", "args", "message"),
    [
        ("bill_validator", "insert-note", ["abc"], "insert-note takes VALUE, a face value, "),
        ("bill_validator", "insert-note", ["-20"], "insert-note takes VALUE, a face value, "),
        ("bill_validator", "insert-note", ["0"], "insert-note takes VALUE, a face value, "),
        ("touchscreen", "touch", ["10", "1.5"], "touch takes X Y, each a whole number"),
        ("printer", "feed-button", ["90"], "feed-button takes [SECONDS], a number of seconds, "),
        ("ups", "set-load", ["-5"], "set-load takes WATTS, a number of watts, 0 or more"),
        ("card_reader", "insert-card", ["4761"], "insert-card takes [TRACK2], track 2 data, "),
        ("bill_validator", "insert-counterfeit", ["abc"], "insert-counterfeit takes [VALUE], a "),
        # what the device's settings allow: said in the same words, by act and by a scenario
        ("touchscreen", "touch", ["1920", "5"], "touch takes X Y, X a column of the 1920x1080 "),
        ("touchscreen", "touch", ["5", "-1"], "touch takes X Y, Y a row of the 1920x1080 screen"),
        ("ups", "set-load", ["20000"], "set-load takes WATTS, a number of watts, 0 to 10000 ("),
        ("system_software", "restart-service", ["x"], "restart-service takes [NAME], a service "),
    ],
)
def test_the_models_declare_the_forms_their_handlers_read(
    kind: str, action_name: str, args: list[str], message: str
) -> None:
    """Each model's handler refuses what its declaration refuses, in the declaration's words,
    with nothing done: the check a scenario makes is the one the action makes."""
    k = KINDS[kind]
    device = k.device_class(simpy.Environment(), k.settings_model(), [])
    assert (device.wrong_arguments(action_name, args) or "").startswith(message)
    with pytest.raises(DeviceError) as info:
        device.act(action_name, *args)
    assert str(info.value) == f"{kind} {device.wrong_arguments(action_name, args)}"
    assert device.log == []


def test_a_note_the_unit_does_not_know_is_offered_by_act_and_refused_in_a_scenario() -> None:
    """A customer may offer any note (``kiosk act insert-note 7``: the validator turns it away);
    the check a scenario makes against its profile's validator says it is not one it knows."""
    k = KINDS["bill_validator"]
    device = k.device_class(simpy.Environment(), k.settings_model(denominations=[10, 20]), [])
    assert device.wrong_arguments("insert-note", ["20"]) is None
    assert device.wrong_arguments("insert-note", ["7"]) == (
        "insert-note takes VALUE, a face value the unit knows (10, 20 EUR); given: 7 (to offer "
        "a note the unit does not know on purpose, write 'insert-unknown-note 7')"
    )
    assert device.act("insert-note", "7") == "7 EUR not taken: validator disabled"


def test_a_note_the_unit_does_not_know_on_purpose_is_read_and_rejected() -> None:
    """``insert-unknown-note 7`` is a genuine note the validator's dataset lacks: taken in when
    the unit is enabled, read, and rejected (reject code 0x02), as a real unit does; a note
    the unit knows is refused by ``act`` and by a scenario's check in the same words."""
    k = KINDS["bill_validator"]
    env = simpy.Environment()
    device = k.device_class(env, k.settings_model(denominations=[10, 20]), [])
    refused = (
        "insert-unknown-note takes VALUE, a face value the unit does not know (it knows 10, 20 "
        "EUR: offer those with insert-note); given: 20"
    )
    assert device.wrong_arguments("insert-unknown-note", ["20"]) == refused
    with pytest.raises(DeviceError, match=rf"^bill_validator {re.escape(refused)}$"):
        device.act("insert-unknown-note", "20")
    assert device.log == []
    device.state.enabled = True  # as a host's ENABLE leaves it
    assert device.act("insert-unknown-note", "7") == "7 EUR taken in"
    env.run(until=10)
    said = [text for _, text in device.log]
    assert said[0] == "note_inserted value=7 genuine=True"
    assert said[-1] == "rejected reason=AVERAGE_FAIL"
    assert not any(text.startswith(("escrow", "credit")) for text in said)
    assert device.state.rejected == 1


def test_a_note_action_says_why_the_validator_would_not_take_it_now() -> None:
    """What a scenario's waiting step asks: the note actions wait on the validator's state (not
    enabled, a note in the path), in the words the action says; other actions never wait."""
    k = KINDS["bill_validator"]
    env = simpy.Environment()
    device = k.device_class(env, k.settings_model(), [])
    assert device.why_not("insert-unknown-note") == "validator disabled"
    assert device.act("insert-unknown-note", "7") == "7 EUR not taken: validator disabled"
    device.set_enabled(True)  # the host's ENABLE
    assert [device.why_not(a) for a in ("insert-note", "insert-counterfeit")] == [None, None]
    assert device.act("insert-note", "20") == "20 EUR taken in"
    assert device.why_not("insert-unknown-note") == "another note in the path"
    assert device.why_not("clean-sensors") is None
    t = KINDS["touchscreen"]
    assert t.device_class(env, t.settings_model(), []).why_not("touch") is None


def test_waiting_on_no_method_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match=r"Lift action 'go' waits on 'doors_open': no such method"):

        class Lift(Device[_Settings]):
            @action("go", "Ride to FLOOR", waits_on="doors_open", floor=WHOLE_NUMBER)
            def go(self, floor: str) -> str:
                return floor
