"""The SSP bill validator in virtual time: a note's life, rejects, escrow time-out, filling the cash
box, and every catalog fault injected, seen in the exact poll bytes a host gets, and cleared."""

from __future__ import annotations

from typing import Any

import pytest
import simpy
from pydantic import ValidationError

from devices.bill_validator import BillValidator, BillValidatorSettings
from devices.catalog import default_catalog
from devices.protocols.ssp import Deframer, Packet, encode_frame
from devices.protocols.ssp_messages import Counters, inhibit_mask

MODES = default_catalog().for_device("bill_validator") + default_catalog().for_device("cash_box")
# Binary-exact timings, so that logged times compare exactly.
EXACT: dict[str, Any] = {
    "read_s": 1.0,
    "credit_s": 0.5,
    "stack_s": 1.0,
    "reject_s": 1.5,
    "escrow_timeout_s": 5.0,
    "reset_s": 2.0,
    "base_reject_rate": 0.0,
    "wear_reject_per_note": 0.0,
}


class Host:
    """A kiosk's SSP master, driving a session directly (no port)."""

    def __init__(self, validator: BillValidator) -> None:
        self.env = validator.env
        self.session = validator.new_session()
        self.seq = False

    def send(self, *data: int, seq: bool | None = None) -> bytes | None:
        """Send one command; the reply data, or None when the validator stays silent."""
        if seq is None:
            self.seq = not self.seq
            seq = self.seq
        out = self.session.feed(encode_frame(seq, 0, bytes(data)))
        if not out:
            self.seq = not seq  # unanswered: the next command goes out with the same flag
            return None
        (packet,) = Deframer().feed(out)
        assert isinstance(packet, Packet) and packet.seq == seq
        return packet.data

    def hex(self, *data: int) -> str | None:
        reply = self.send(*data)
        return None if reply is None else reply.hex(" ").upper()

    def poll(self) -> str | None:
        return self.hex(0x07)

    def start(self, channels: range = range(1, 8)) -> None:
        """SYNC, SET INHIBITS, ENABLE, and a first POLL that drains the power-up slave reset."""
        self.seq = False
        assert self.send(0x11, seq=True) == b"\xf0"
        self.seq = True
        assert self.send(0x02, *inhibit_mask(channels)) == b"\xf0"
        assert self.send(0x0A) == b"\xf0"
        assert self.poll() == "F0 F1"

    def at(self, t: float) -> None:
        if t > self.env.now:
            self.env.run(until=t)


def make(**overrides: Any) -> tuple[BillValidator, Host]:
    env = simpy.Environment()
    settings = BillValidatorSettings(**{**EXACT, **overrides})
    validator = BillValidator(env, settings, MODES)
    validator.start()
    return validator, Host(validator)


def polls(host: Host, times: list[float]) -> list[tuple[float, str | None]]:
    out = []
    for t in times:
        host.at(t)
        out.append((t, host.poll()))
    return out


def test_a_note_is_read_escrowed_stacked_and_credited() -> None:
    v, host = make()
    host.start()
    assert v.act("insert-note", "20") == "20 EUR taken in"
    got = polls(host, [0.25, 0.75, 1.25, 1.75, 2.25, 2.625, 3.25, 3.75])
    assert got == [
        (0.25, "F0 EF 00"),  # reading
        (0.75, "F0 EF 00"),
        (1.25, "F0 EF 03"),  # in escrow: channel 3 = 20 EUR; the host's next poll accepts it
        (1.75, "F0 CC"),  # stacking
        (2.25, "F0 CC"),
        (2.625, "F0 EE 03 CC"),  # credit at 2.25 + 0.5, still stacking
        (3.25, "F0 EB"),  # stacked at 2.75
        (3.75, "F0"),
    ]
    assert v.log == [
        (0, "inhibits accepting=[1, 2, 3, 4, 5, 6, 7]"),
        (0, "enabled"),
        (0, "note_inserted value=20 genuine=True"),
        (0, "reading value=20"),
        (1.0, "escrow channel=3"),
        (1.75, "stacking channel=3"),
        (2.25, "credit channel=3"),
        (2.75, "stacked channel=3 cash_box=1"),
    ]
    assert Counters.decode((host.send(0x58) or b"")[1:]) == Counters(stacked=1)
    assert host.hex(0x17) == "F0 00"
    st = v.status()
    assert st["cash_box"] == {"level": 1, "capacity": 600, "present": True}
    assert st["counters"] == {"stacked": 1, "rejected": 0}


def test_events_between_two_polls_come_in_order_of_occurrence() -> None:
    v, host = make()
    host.start()
    v.act("insert-note", "5")
    assert polls(host, [1.5, 2.0, 4.0]) == [
        (1.5, "F0 EF 00 EF 01"),
        (2.0, "F0 CC"),
        (4.0, "F0 EE 01 EB"),
    ]


def test_unknown_value_counterfeit_and_inhibited_channel_are_rejected_with_their_codes() -> None:
    v, host = make()
    host.start(channels=range(1, 3))  # 5 and 10 only
    for t, stimulus, code in ((0, "7", "02"), (5, "", "03"), (10, "50", "06")):
        host.at(t)
        if stimulus == "":
            assert v.act("insert-counterfeit") == "counterfeit note taken in"
        else:
            v.act("insert-note", stimulus)
        got = polls(host, [t + 0.5, t + 1.25, t + 2.0, t + 3.0])
        assert got == [
            (t + 0.5, "F0 EF 00"),
            (t + 1.25, "F0 ED"),
            (t + 2.0, "F0 ED"),
            (t + 3.0, "F0 EC"),
        ]
        assert host.hex(0x17) == f"F0 {code}"
    assert [e for _, e in v.log if e.startswith("rejected")] == [
        "rejected reason=AVERAGE_FAIL",
        "rejected reason=COASTLINE_FAIL",
        "rejected reason=CHANNEL_INHIBIT",
    ]
    assert v.status()["counters"] == {"stacked": 0, "rejected": 3}


def test_host_reject_and_hold() -> None:
    v, host = make()
    host.start()
    assert host.hex(0x08) == "F5"  # nothing in escrow
    assert host.hex(0x18) == "F5"
    v.act("insert-note", "10")
    host.at(1.5)
    assert host.poll() == "F0 EF 00 EF 02"
    # HOLD instead of POLL keeps the note in escrow well past the time-out.
    for t in (4.0, 8.0, 12.0):
        host.at(t)
        assert host.hex(0x18) == "F0"
    host.at(12.5)
    assert host.hex(0x08) == "F0"
    assert polls(host, [13.0, 14.5]) == [(13.0, "F0 ED"), (14.5, "F0 EC")]
    assert host.hex(0x17) == "F0 08"


def test_a_host_that_stops_polling_gets_the_note_rejected_after_the_escrow_timeout() -> None:
    v, host = make()
    host.start()
    v.act("insert-note", "50")
    host.at(1.25)
    assert host.poll() == "F0 EF 00 EF 04"
    host.at(20)
    assert v.log[-4:] == [
        (0, "reading value=50"),
        (1.0, "escrow channel=4"),
        (6.25, "rejecting reason=ESCROW_TIMEOUT"),
        (7.75, "rejected reason=ESCROW_TIMEOUT"),
    ]
    assert host.poll() == "F0 ED EC"
    assert host.hex(0x17) == "F0 13"


def test_filling_the_cash_box_to_stacker_full() -> None:
    v, host = make(cash_box_capacity=20, cash_box_notes=17)
    host.start()
    for i in range(3):
        t0 = 4.0 * i
        host.at(t0)
        assert v.act("insert-note", "100") == "100 EUR taken in"
        polls(host, [t0 + 1.25, t0 + 1.75, t0 + 3.5])
    assert [(t, e) for t, e in v.log if e.startswith(("stacked", "fault"))] == [
        (2.75, "stacked channel=5 cash_box=18"),
        (6.75, "stacked channel=5 cash_box=19"),
        (6.75, "fault id=cash_box.near_full"),  # above 90 % of 20
        (10.75, "stacked channel=5 cash_box=20"),
        (10.75, "fault id=cash_box.full"),
    ]
    host.at(12)
    assert host.poll() == "F0 E7"
    assert host.poll() == "F0 E7"  # repeated while full
    assert v.act("insert-note", "20") == "20 EUR not taken: stacker full"
    assert Counters.decode((host.send(0x58) or b"")[1:]).stacked == 3
    assert v.act("empty-cashbox") == "cash box emptied (20 notes)"
    assert host.poll() == "F0 E3 E4"
    assert v.status()["faults"] == []
    assert v.status()["cash_box"]["level"] == 0


def test_commands_validate_their_parameters() -> None:
    _, host = make()
    host.start()
    assert host.hex(0x07, 0x00) == "F3"
    assert host.hex(0x02) == "F3"
    assert host.hex(0x06) == "F3"
    assert host.hex(0x06, 0x08) == "F8"  # protocol 8 not supported by this unit
    assert host.hex(0x06, 0x04) == "F0"
    assert host.hex(0x0E) == "F0 07 05 0A 14 32 64 C8 00"
    assert host.hex(0x0C) == "F0 01 38 FE 59"  # 20512345
    assert host.hex(0x0D) == "F0 00 30 33 37 32 45 55 52 00 00 01 04"
    assert host.hex(0x19) == "F0"  # enable higher protocol events (eSSP hosts send it)
    assert host.hex(0x4A) == "F3"  # SET GENERATOR takes 8 bytes
    assert host.hex(0x4A, *(9).to_bytes(8, "little")) == "F4"  # 9 is not prime
    assert host.hex(0x4C, *(5).to_bytes(8, "little")) == "F8"  # no modulus yet
    assert host.hex(0x60, *(1).to_bytes(8, "little")) == "FA"  # SET FIXED KEY only encrypted
    assert host.hex(0x4E) == "F2"
    assert host.hex(0x09) == "F0"
    assert host.poll() == "F0 E8"


def test_reset_goes_silent_then_reports_slave_reset_disabled() -> None:
    v, host = make()
    host.start()
    host.at(1.0)
    assert host.hex(0x01) == "F0"
    host.at(2.0)
    assert host.hex(0x11) is None  # rebooting
    host.at(3.5)
    assert host.send(0x11, seq=True) == b"\xf0"
    host.seq = True
    assert host.poll() == "F0 F1 E8"
    assert v.status()["accepting_channels"] == []


# -- faults ------------------------------------------------------------------------------------
def test_safe_jam_idle_then_cleared_into_the_cash_box() -> None:
    v, host = make()
    host.start()
    v.inject("bill_validator.safe_jam")
    assert host.poll() == "F0 EA"
    assert host.poll() == "F0 EA"
    assert v.act("insert-note", "20") == "20 EUR not taken: note path jammed"
    assert v.act("clear-jam") == "jam cleared"
    assert host.poll() == "F0 E2 00"
    assert host.poll() == "F0"


def test_unsafe_jam_injected_mid_note_and_cleared_from_the_front() -> None:
    v, host = make()
    host.start()
    v.act("insert-note", "20")
    polls(host, [1.25, 1.75])  # read 3 reported, accepted: stacking
    host.at(2.0)
    v.inject("bill_validator.unsafe_jam")
    assert polls(host, [2.5, 5.0]) == [(2.5, "F0 E9"), (5.0, "F0 E9")]
    v.clear("bill_validator.unsafe_jam")
    assert host.poll() == "F0 E1 03"
    assert v.status()["counters"]["stacked"] == 0


def test_fraud_attempt_mid_note_locks_out_until_reset() -> None:
    v, host = make()
    host.start()
    v.act("insert-note", "50")
    host.at(1.25)
    assert host.poll() == "F0 EF 00 EF 04"
    v.inject("bill_validator.fraud_attempt")
    assert host.poll() == "F0 E6 04"
    assert host.poll() == "F0"
    assert "locked out" in v.act("insert-note", "50")
    assert host.hex(0x01) == "F0"  # the remote remedy: RESET
    host.at(4.0)
    assert v.status()["faults"] == []
    host.start()
    assert v.act("insert-note", "50") == "50 EUR taken in"


def test_no_response_answers_nothing_until_cleared() -> None:
    v, host = make()
    host.start()
    v.inject("bill_validator.no_response")
    assert host.send(0x11, seq=True) is None
    assert host.poll() is None
    v.clear("bill_validator.no_response")
    assert host.send(0x11, seq=True) == b"\xf0"


def test_sensor_dirt_by_wear_raises_rejects_and_cleaning_resets_it() -> None:
    v, host = make(dirty_after_notes=3, dirty_reject_rate=1.0)
    host.start()
    for i in range(3):
        host.at(10.0 * i)
        v.act("insert-note", "5")
        polls(host, [10.0 * i + 1.25, 10.0 * i + 1.75])
    host.at(30)
    assert v.status()["faults"] == ["bill_validator.sensor_dirty"]
    assert [e for _, e in v.log if e.startswith(("stacked", "rejected"))] == [
        "stacked channel=1 cash_box=1",
        "stacked channel=1 cash_box=2",
        "rejected reason=BURIED_FAIL",
    ]
    assert host.hex(0x17) in ("F0 02", "F0 05")
    assert v.act("clean-sensors") == "sensors cleaned"
    assert v.status()["faults"] == [] and v.status()["notes_since_clean"] == 0


def test_wear_grows_the_reject_rate() -> None:
    v, host = make(base_reject_rate=0.0, wear_reject_per_note=0.002, dirty_after_notes=10_000)
    host.start()
    rejected = []
    for i in range(400):
        t = 10.0 * i
        host.at(t)
        v.act("insert-note", "10")
        polls(host, [t + 1.25, t + 1.75, t + 4.0])
        rejected.append(v.state.last_reject != 0)
    assert sum(rejected[:100]) < sum(rejected[300:])


def test_cash_box_removed_is_repeated_until_replaced() -> None:
    v, host = make()
    host.start()
    assert v.act("remove-cashbox") == "cash box removed"
    assert host.poll() == "F0 E3"
    assert host.poll() == "F0 E3"
    assert "cash box removed" in v.act("insert-note", "20")
    assert v.act("replace-cashbox") == "cash box replaced"
    assert host.poll() == "F0 E4"
    assert host.poll() == "F0"


def test_cash_box_full_and_near_full_injected_fill_the_box_and_clearing_empties_it() -> None:
    v, host = make(cash_box_capacity=100)
    host.start()
    v.inject("cash_box.near_full")
    assert v.status()["cash_box"]["level"] == 91
    assert host.poll() == "F0"  # no SSP event: the host sees it in its counters
    v.inject("cash_box.full")
    assert v.status()["cash_box"]["level"] == 100
    assert host.poll() == "F0 E7"
    v.clear("cash_box.full")
    assert v.status()["cash_box"]["level"] == 0
    assert v.status()["faults"] == []
    assert host.poll() == "F0"


@pytest.mark.parametrize("mode", [m.id for m in MODES])
def test_every_catalog_fault_is_visible_and_clears(mode: str) -> None:
    v, host = make()
    host.start()
    v.inject(mode)
    seen = host.poll()
    v.clear(mode)
    host.at(1.0)
    after = host.poll()
    expected = {
        "bill_validator.safe_jam": ("F0 EA", "F0 E2 00"),
        "bill_validator.unsafe_jam": ("F0 E9", "F0 E1 00"),
        "bill_validator.fraud_attempt": ("F0 E6 00", "F0"),
        "bill_validator.sensor_dirty": ("F0", "F0"),
        "bill_validator.no_response": (None, "F0"),
        "cash_box.full": ("F0 E7", "F0"),
        "cash_box.removed": ("F0 E3", "F0 E4"),
        "cash_box.near_full": ("F0", "F0"),
    }
    assert (seen, after) == expected[mode]
    assert v.status()["faults"] == []


def test_settings_refuse_bad_values_naming_them() -> None:
    with pytest.raises(ValidationError, match="country"):
        BillValidatorSettings(country="eur")
    with pytest.raises(ValidationError, match="cash_box_notes"):
        BillValidatorSettings(cash_box_capacity=10, cash_box_notes=11)
    cny = BillValidatorSettings(country="CNY", denominations=[1, 5, 10, 20, 50, 100])
    v = BillValidator(simpy.Environment(), cny, MODES)
    assert v.channel_of(100) == 6
