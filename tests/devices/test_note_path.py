"""The bill validator's note path as a chain of plain SimPy events: the same device log, poll
events and customer outcomes as the note's life had as a SimPy process (pinned from that
implementation), with faults landing mid-note at every stage, and a note that times out in
escrow with no host polling at all."""

from __future__ import annotations

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
    5: (2.0, UNSAFE, 40),  # rejecting (the channels stayed inhibited after the reset)
    7: (2.7, JAM, 40),  # just after the note went back
    9: (1.2, "power-cycle", None),  # rejecting
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
    assert _lines(log, 2, 23) == [
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
    ]
    assert _lines(log, 30, 37) == [
        (29257.792534, "note_inserted value=10 genuine=True"),
        (29257.792534, "reading value=10"),
        (29258.792534, "rejecting reason=CHANNEL_INHIBIT"),
        (29259.792534, "fault id=bill_validator.unsafe_jam"),  # on its way back: never rejected
        (29259.792534, "disabled"),
        (29299.792534, "clear id=bill_validator.unsafe_jam"),
        (29299.792534, "note_cleared to=front channel=0"),
    ]
    assert _lines(log, 59, 65) == [
        (31804.302756, "note_inserted value=5 genuine=True"),
        (31804.302756, "reading value=5"),
        (31805.302756, "rejecting reason=CHANNEL_INHIBIT"),
        (31805.502756, "reset"),
        (31807.502756, "note_cleared to=front channel=0"),
        (31807.502756, "ready"),
    ]
    assert _lines(log, 73, 79) == [
        (32184.289262, "note_inserted value=10 genuine=True"),
        (32184.289262, "reading value=10"),
        (32185.289262, "fault id=bill_validator.unsafe_jam"),  # the same instant as the read end
        (32185.289262, "disabled"),
        (32195.289262, "clear id=bill_validator.unsafe_jam"),
        (32195.289262, "note_cleared to=front channel=0"),
    ]
    assert _lines(log, 86, 127) == [
        (32287.157463, "note_inserted value=50 genuine=True"),
        (32287.157463, "reading value=50"),
        (32288.157463, "escrow channel=4"),
        (32288.657463, "stacking channel=4"),
        (32289.257463, "credit channel=4"),
        (32289.457463, "fault id=bill_validator.safe_jam"),  # credited, jammed in the stacker
        (32289.657463, "disabled"),
        (32319.457463, "clear id=bill_validator.safe_jam"),
        (32319.457463, "note_cleared to=cash_box channel=4"),
        (33955.795896, "enabled"),
        (33960.793917, "note_inserted value=20 genuine=True"),
        (33960.793917, "reading value=20"),
        (33961.793917, "escrow channel=3"),
        (33962.293917, "stacking channel=3"),
        (33962.893917, "credit channel=3"),
        (33963.493917, "stacked channel=3 cash_box=7"),
        (33963.793917, "disabled"),
        (34766.349045, "enabled"),
        (34770.462836, "note_inserted value=20 genuine=True"),
        (34770.462836, "reading value=20"),
        (34771.462836, "escrow channel=3"),
        (34771.662836, "reset"),  # in escrow: handed back when the unit is up again
        (34773.662836, "note_cleared to=front channel=3"),
        (34773.662836, "ready"),
        (36152.17876, "inhibits accepting=[1, 2, 3, 4, 5, 6, 7]"),
        (36152.17876, "enabled"),
        (36155.045978, "note_inserted value=10 genuine=True"),
        (36155.045978, "reading value=10"),
        (36156.045978, "escrow channel=2"),
        (36156.545978, "stacking channel=2"),
        (36157.145978, "credit channel=2"),
        (36157.745978, "stacked channel=2 cash_box=8"),
        (36160.868664, "note_inserted value=50 genuine=True"),
        (36160.868664, "reading value=50"),
        (36161.868664, "escrow channel=4"),
        (36162.368664, "stacking channel=4"),
        (36162.568664, "fault id=bill_validator.fraud_attempt"),  # stacking, not credited
        (36162.868664, "disabled"),
        (36182.568664, "reset"),
        (36184.568664, "clear id=bill_validator.fraud_attempt"),
        (36184.568664, "ready"),
    ]
    app = terminal.app
    assert app is not None
    assert (len(log), app.stats.notes_credited, app.stats.notes_returned) == (407, 6, 60)
    status = terminal.devices["bill_validator"].status()
    assert status["cash_box"]["level"] == status["counters"]["stacked"] == 8


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
