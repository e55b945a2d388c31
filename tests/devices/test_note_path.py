"""The bill validator's note path as a chain of plain SimPy events: the same device log, poll
events and customer outcomes as the note's life had as a SimPy process (pinned from that
implementation, with the same application), with faults landing mid-note at every stage and the
application setting the unit up afresh after each reboot, and a note that times out in escrow
with no host polling at all."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import simpy
from test_bill_validator import make

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.terminal import Terminal
from workbench.clock import DAY

PROFILE = """\
name: note_path_test
devices:
  printer: {}
  bill_validator: {cash_box_capacity: 2000}
  card_reader: {}
  touchscreen: {}
usage:
  enabled: true
  customers_per_hour: 6
  opens_h: 7
  closes_h: 21
  refill_paper: false
  collect_cash_every_d: null
"""

JAM, UNSAFE, FRAUD = (f"bill_validator.{f}" for f in ("safe_jam", "unsafe_jam", "fraud_attempt"))
PLAN: dict[int, tuple[float, str, float | None]] = {
    1: (0.5, JAM, 30),  # reading
    3: (1.2, FRAUD, None),  # in escrow (a power cycle 20 s later)
    5: (2.0, UNSAFE, 40),  # stacking, before the credit
    7: (2.7, JAM, 40),  # stacking, after the credit
    9: (1.2, "power-cycle", None),  # in escrow
    11: (1.0, UNSAFE, 10),  # the very instant the read ends
    13: (2.3, JAM, 30),  # stacking, after the credit
    15: (1.2, "power-cycle", None),  # in escrow
    17: (1.7, FRAUD, None),  # stacking, before the credit
}
"""The n-th note offered -> (seconds after it went in, the fault or stimulus, clear after)."""


def _day_with_faults_mid_note(tmp_path: Path) -> Terminal:
    path = tmp_path / "note_path_test.yaml"
    path.write_text(PROFILE)
    env = simpy.Environment()
    offered = [0]
    terminal: Terminal

    def sink(_tid: str, device: str, _t: float, kind: str, _detail: dict[str, Any]) -> None:
        if device != "bill_validator" or kind != "note_inserted":
            return
        offered[0] += 1
        if offered[0] not in PLAN:
            return
        after, what, clear_after = PLAN[offered[0]]
        validator = terminal.devices["bill_validator"]

        def later(delay: float, then: Any) -> None:
            env.timeout(delay).callbacks.append(lambda _: then())

        def fire() -> None:
            if what == "power-cycle":
                validator.act("power-cycle")
                return
            validator.inject(what)
            if clear_after is not None:
                later(clear_after, lambda: validator.clear(what))
            else:  # fraud locks the unit out: staff power-cycle it
                later(20, lambda: validator.act("power-cycle"))

        later(after, fire)

    terminal = Terminal(env, "KSK-0001", load_profile(path), default_catalog(), seed=7, sink=sink)
    terminal.start()
    env.run(until=DAY)
    return terminal


def _lines(log: list[tuple[float, str]], start: int, end: int) -> list[tuple[float, str]]:
    return [(round(t, 6), e) for t, e in log[start:end]]


def test_faults_mid_note_give_the_log_and_outcomes_of_the_process_based_path(
    tmp_path: Path,
) -> None:
    terminal = _day_with_faults_mid_note(tmp_path)
    log = terminal.devices["bill_validator"].log
    assert _lines(log, 2, 32) == [
        (26470.707505, "note_inserted value=20 genuine=True"),
        (26470.707505, "reading value=20"),
        (26471.207505, "fault id=bill_validator.safe_jam"),  # mid-read: channel not known
        (26471.207505, "disabled"),
        (26501.207505, "clear id=bill_validator.safe_jam"),
        (26501.207505, "note_cleared to=cash_box channel=0"),
        (27291.347117, "enabled"),
        (27293.386227, "note_inserted value=5 genuine=True"),
        (27293.386227, "reading value=5"),
        (27294.386227, "escrow channel=1"),
        (27294.886227, "stacking channel=1"),
        (27295.486227, "credit channel=1"),
        (27296.086227, "stacked channel=1 cash_box=2"),
        (27299.292795, "note_inserted value=50 genuine=True"),
        (27299.292795, "reading value=50"),
        (27300.292795, "escrow channel=4"),
        (27300.492795, "fault id=bill_validator.fraud_attempt"),  # in escrow: never stacked
        (27300.792795, "disabled"),
        (27320.492795, "reset"),
        (27322.492795, "clear id=bill_validator.fraud_attempt"),
        (27322.492795, "ready"),
        (28236.866824, "enabled"),
        (
            28236.866824,
            "inhibits accepting=[1, 2, 3, 4, 5, 6, 7]",
        ),  # the next customer finds the reboot: set up afresh
        (28241.402193, "note_inserted value=5 genuine=True"),
        (28241.402193, "reading value=5"),
        (28242.402193, "escrow channel=1"),
        (28242.902193, "stacking channel=1"),
        (28243.502193, "credit channel=1"),
        (28244.102193, "stacked channel=1 cash_box=3"),
        (28244.402193, "disabled"),
    ]
    assert _lines(log, 33, 41) == [
        (31170.965182, "note_inserted value=50 genuine=True"),
        (31170.965182, "reading value=50"),
        (31171.965182, "escrow channel=4"),
        (31172.465182, "stacking channel=4"),
        (
            31172.965182,
            "fault id=bill_validator.unsafe_jam",
        ),  # stacking, not yet credited: handed back
        (31172.965182, "disabled"),
        (31212.965182, "clear id=bill_validator.unsafe_jam"),
        (31212.965182, "note_cleared to=front channel=4"),
    ]
    assert _lines(log, 48, 58) == [
        (33006.120709, "note_inserted value=5 genuine=True"),
        (33006.120709, "reading value=5"),
        (33007.120709, "escrow channel=1"),
        (33007.620709, "stacking channel=1"),
        (33008.220709, "credit channel=1"),
        (33008.820709, "fault id=bill_validator.safe_jam"),  # credited, jammed in the stacker
        (33011.341978, "note_refused value=5 reason=note_path_jammed"),
        (33011.341978, "disabled"),
        (33048.820709, "clear id=bill_validator.safe_jam"),
        (33048.820709, "note_cleared to=cash_box channel=1"),
    ]
    assert _lines(log, 65, 73) == [
        (33139.597933, "note_inserted value=10 genuine=True"),
        (33139.597933, "reading value=10"),
        (33140.597933, "escrow channel=2"),
        (33140.797933, "reset"),  # in escrow: handed back when the unit is up again
        (33142.797933, "note_cleared to=front channel=2"),
        (33142.797933, "ready"),
        (35224.15786, "inhibits accepting=[1, 2, 3, 4, 5, 6, 7]"),
        (35224.15786, "enabled"),
    ]
    assert _lines(log, 79, 85) == [
        (35233.151739, "note_inserted value=10 genuine=True"),
        (35233.151739, "reading value=10"),
        (35234.151739, "fault id=bill_validator.unsafe_jam"),  # the same instant as the read end
        (35234.151739, "disabled"),
        (35244.151739, "clear id=bill_validator.unsafe_jam"),
        (35244.151739, "note_cleared to=front channel=0"),
    ]
    assert _lines(log, 92, 101) == [
        (35336.01994, "note_inserted value=50 genuine=True"),
        (35336.01994, "reading value=50"),
        (35337.01994, "escrow channel=4"),
        (35337.51994, "stacking channel=4"),
        (35338.11994, "credit channel=4"),
        (35338.31994, "fault id=bill_validator.safe_jam"),  # credited, jammed in the stacker
        (35338.51994, "disabled"),
        (35368.31994, "clear id=bill_validator.safe_jam"),
        (35368.31994, "note_cleared to=cash_box channel=4"),
    ]
    assert _lines(log, 110, 118) == [
        (37819.325312, "note_inserted value=20 genuine=True"),
        (37819.325312, "reading value=20"),
        (37820.325312, "escrow channel=3"),
        (37820.525312, "reset"),  # in escrow
        (37822.525312, "note_cleared to=front channel=3"),
        (37822.525312, "ready"),
        (39201.041236, "inhibits accepting=[1, 2, 3, 4, 5, 6, 7]"),
        (39201.041236, "enabled"),
    ]
    assert _lines(log, 124, 135) == [
        (39209.731141, "note_inserted value=50 genuine=True"),
        (39209.731141, "reading value=50"),
        (39210.731141, "escrow channel=4"),
        (39211.231141, "stacking channel=4"),
        (39211.431141, "fault id=bill_validator.fraud_attempt"),  # stacking, not credited
        (39211.731141, "disabled"),
        (39231.431141, "reset"),
        (39233.431141, "clear id=bill_validator.fraud_attempt"),
        (39233.431141, "ready"),
        (45819.301961, "enabled"),
        (
            45819.301961,
            "inhibits accepting=[1, 2, 3, 4, 5, 6, 7]",
        ),  # set up afresh after the reboot
    ]
    app = terminal.app
    assert app is not None
    assert (len(log), app.stats.notes_credited, app.stats.notes_returned) == (470, 58, 1)
    status = terminal.devices["bill_validator"].status()
    assert status["cash_box"]["level"] == status["counters"]["stacked"] == 59


def test_a_note_times_out_in_escrow_with_no_host_polling_at_all() -> None:
    """No poll after the note went in: its escrow time-out still runs (5 s from the escrow,
    the host's last contact being earlier), the note goes back, and the next poll, however
    late, reports all that happened in order."""
    v, host = make()
    host.start()  # the host's last contact: t = 0
    v.act("insert-note", "50")
    host.at(3.0)
    assert v.status()["escrow"] == [{"value": 50, "channel": 4}]
    host.at(20.0)
    assert v.log[2:] == [
        (0, "note_inserted value=50 genuine=True"),
        (0, "reading value=50"),
        (1.0, "escrow channel=4"),
        (6.0, "rejecting reason=ESCROW_TIMEOUT"),
        (7.5, "rejected reason=ESCROW_TIMEOUT"),
    ]
    status = v.status()
    assert (status["note"], status["escrow"], status["counters"]) == (
        None,
        [],
        {"stacked": 0, "rejected": 1},
    )
    assert host.poll() == "F0 EF 00 EF 04 ED EC"
    assert host.hex(0x17) == "F0 13"  # escrow time-out


def test_a_note_is_recorded_with_its_value_as_offered_whatever_was_offered_before() -> None:
    """The path makes the values of a face value's records once and reuses them; a value equal
    to one offered before but of another type (``50.0`` is ``50`` to a dict) still reads as
    offered, as it did when every record had its own keywords."""
    v, host = make()
    host.start()
    v.insert(50)
    host.at(20.0)  # the note timed out in escrow and went back
    v.insert(50.0, genuine=1)  # type: ignore[arg-type]
    host.at(40.0)
    v.insert(50)
    host.at(60.0)
    offered = [line for _, line in v.log if line.startswith(("note_inserted", "reading"))]
    assert offered == [
        "note_inserted value=50 genuine=True",
        "reading value=50",
        "note_inserted value=50.0 genuine=1",
        "reading value=50.0",
        "note_inserted value=50 genuine=True",
        "reading value=50",
    ]


def test_a_poll_due_at_the_instant_of_a_stage_sees_the_note_between_its_two_steps() -> None:
    """A host polling every 0.5 s from when the note went in: its polls fall on the very instant
    the read ends (1.0) and the note lands in the cash box (2.5), each scheduled after that stage.
    The stage runs first; the note's second step (entering escrow, being stacked) comes after the
    poll, as with the note's life as a process: the poll at 1.0 hears nothing new (the escrow is
    reported at 1.5, with the acceptance), the one at 2.5 hears the note still stacking."""
    v, host = make()
    host.start()
    env = v.env
    v.act("insert-note", "20")
    replies: list[tuple[float, str | None]] = []

    def poller() -> Generator[simpy.Event, None, None]:
        for _ in range(7):
            yield env.timeout(0.5)
            replies.append((env.now, host.poll()))

    env.process(poller())
    env.run(until=4)
    assert replies == [
        (0.5, "F0 EF 00"),  # reading
        (1.0, "F0"),  # read, not yet in escrow
        (1.5, "F0 EF 03 CC"),  # in escrow (channel 3), and accepted: stacking
        (2.0, "F0 EE 03 CC"),  # credited at 2.0, still stacking
        (2.5, "F0 CC"),  # in the cash box, not yet stacked
        (3.0, "F0 EB"),
        (3.5, "F0"),
    ]
    assert v.log[2:] == [
        (0, "note_inserted value=20 genuine=True"),
        (0, "reading value=20"),
        (1.0, "escrow channel=3"),
        (1.5, "stacking channel=3"),
        (2.0, "credit channel=3"),
        (2.5, "stacked channel=3 cash_box=1"),
    ]
