"""Usage mode ``counters``' written-out paths against the device methods they stand for, on twin
devices driven by the same random story (same seed, same faults, same staff): a card payment
(:meth:`CardReader.pass_counted` against ``_pass`` and ``read_error_probability``), a
customer's notes (:meth:`NotePath.stack_counted` against ``refusal`` and ``_judge``) and a
receipt (:meth:`Printer.print_counted` against ``Mechanism.advance`` and ``cut_receipt``). The
results, the devices' state, status, log and random stream must agree after every step. And a
counters-mode kiosk whose customers' waits pass in place records what it records with every
wait an event."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.kiosk_bench import kiosk_profile
from devices.base import Device
from devices.bill_validator import BillValidator
from devices.bill_validator_state import (
    BOX_FULL,
    BOX_REMOVED,
    FRAUD,
    NO_RESPONSE,
    SAFE_JAM,
    SENSOR_DIRTY,
    BillValidatorSettings,
)
from devices.card_reader import (
    HEAD_DIRTY,
    JAM,
    SHUTTER_STUCK,
    CardReader,
    CardReaderSettings,
)
from devices.card_reader import NO_RESPONSE as READER_HUNG
from devices.catalog import default_catalog
from devices.printer import Printer, PrinterSettings
from devices.terminal import Terminal
from devices.usage import KioskApp
from workbench.clock import DAY
from workbench.fault_ids.printer import HEAD_DIRTY as PRINTER_HEAD_DIRTY
from workbench.fault_ids.printer import NEAR_END, PAPER_OUT

CATALOG = default_catalog()


def _fault_step(dev: Device[Any], fault: str, on: bool) -> None:
    (dev.inject if on else dev.clear)(fault)


def _same(general: Device[Any], fast: Device[Any]) -> None:
    assert fast.status() == general.status()
    assert fast.log == general.log
    assert fast.rng.getstate() == general.rng.getstate()


# -- card reader -------------------------------------------------------------------------------
def general_pass(reader: CardReader) -> tuple[str, int]:
    """A card payment on the counters, method by method (what pass_counted writes out)."""
    if reader.has(READER_HUNG) or reader.has(SHUTTER_STUCK):
        return "refused", 0
    if reader.state.position != "none" or reader.has(JAM):
        return "busy", 0
    reader._pass()
    errors = 0
    for _ in range(3):
        chance = reader.read_error_probability()
        if chance > 0 and reader.rng.random() < chance:
            errors += 1
            continue
        reader._pass()
        return "read", errors
    reader._pass()
    return "unreadable", errors


reader_steps = st.lists(
    st.one_of(
        st.tuples(st.just("pass"), st.integers(1, 30)),
        st.tuples(
            st.just("fault"),
            st.sampled_from([READER_HUNG, SHUTTER_STUCK, JAM, HEAD_DIRTY]),
            st.booleans(),
        ),
        st.tuples(st.just("insert"), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(steps=reader_steps, seed=st.integers(0, 2**16), dirty=st.integers(3, 60))
def test_a_counted_card_pass_is_the_readers_own_pass_and_read_odds(
    steps: list[tuple[Any, ...]], seed: int, dirty: int
) -> None:
    s = CardReaderSettings(head_dirty_passes=dirty, read_error_at_dirty=0.4)
    modes = CATALOG.for_device("card_reader")
    general, fast = (
        CardReader(simpy.Environment(), s, modes, rng=random.Random(seed)) for _ in range(2)
    )
    outcomes: set[str] = set()
    for step in steps:
        if step[0] == "pass":
            for _ in range(step[1]):
                got = fast.pass_counted()
                assert got == general_pass(general)
                outcomes.add(got[0])
        elif step[0] == "fault":
            for reader in (general, fast):
                _fault_step(reader, step[1], step[2])
        else:  # a card left in the slot: the next payment finds it busy
            for reader in (general, fast):
                if reader.state.position == "none" and not reader.has(JAM):
                    reader.state.position = "gate"
                else:
                    reader.state.position = "none"
        _same(general, fast)


def test_the_card_story_reaches_every_outcome() -> None:
    # The property above means something only if its stories read, fail to read and refuse.
    s = CardReaderSettings(head_dirty_passes=5, read_error_at_dirty=0.4)
    reader = CardReader(simpy.Environment(), s, CATALOG.for_device("card_reader"))
    seen = {reader.pass_counted()[0] for _ in range(40)}
    reader.inject(SHUTTER_STUCK)
    seen.add(reader.pass_counted()[0])
    assert seen == {"read", "unreadable", "refused"}
    assert reader.has(HEAD_DIRTY)


# -- bill validator ----------------------------------------------------------------------------
def general_stack(validator: BillValidator, values: Sequence[int]) -> tuple[int, int, int]:
    """A customer's notes on the counters, method by method (what stack_counted writes out)."""
    path = validator.path
    why = path.refusal()
    if why is not None and why != "validator disabled":
        return 0, 0, 0
    state, s = path.state, path.settings
    if not state.accepting:
        state.accepting = set(range(1, len(s.denominations) + 1))
    room = s.cash_box_capacity - int(path.cash_box.level)
    stacked = credited = rejected = 0
    reason = None
    for value in values:
        if stacked >= room:
            break
        state.notes_since_clean += 1
        if state.notes_since_clean >= s.dirty_after_notes:
            validator.worn(SENSOR_DIRTY)
        reason = path._judge(value, True)[0]
        if reason is None:
            stacked += 1
            credited += value
        else:
            rejected += 1
    if stacked or rejected:
        state.last_reject = type(state.last_reject).NOTE_ACCEPTED if reason is None else reason
    state.rejected += rejected
    if stacked:
        path.cash_box.stack(stacked)
        state.stacked += stacked
        path.cash_box.check_fill()
    return stacked, credited, rejected


note_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("notes"),
            st.lists(st.sampled_from([5, 10, 20, 50, 7]), max_size=5),
            st.integers(1, 12),
        ),
        st.tuples(
            st.just("fault"),
            st.sampled_from([NO_RESPONSE, SAFE_JAM, FRAUD, BOX_REMOVED, BOX_FULL, SENSOR_DIRTY]),
            st.booleans(),
        ),
        st.tuples(st.just("inhibit"), st.sets(st.integers(1, 4))),
        st.tuples(st.just("enable"), st.booleans()),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(steps=note_steps, seed=st.integers(0, 2**16), dirty=st.integers(2, 40))
def test_counted_notes_are_the_validators_own_refusals_and_verdicts(
    steps: list[tuple[Any, ...]], seed: int, dirty: int
) -> None:
    s = BillValidatorSettings(
        denominations=[5, 10, 20, 50],
        cash_box_capacity=60,
        dirty_after_notes=dirty,
        base_reject_rate=0.3,
        wear_reject_per_note=0.002,
    )
    modes = CATALOG.for_device("bill_validator") + CATALOG.for_device("cash_box")
    general, fast = (
        BillValidator(simpy.Environment(), s, modes, rng=random.Random(seed)) for _ in range(2)
    )
    for step in steps:
        if step[0] == "notes":
            for _ in range(step[2]):  # customers one after another
                assert fast.path.stack_counted(step[1]) == general_stack(general, step[1])
                assert fast.state == general.state
        elif step[0] == "fault":
            for validator in (general, fast):
                _fault_step(validator, step[1], step[2])
        elif step[0] == "inhibit":
            for validator in (general, fast):
                validator.state.accepting = set(step[1])
        else:
            for validator in (general, fast):
                validator.state.enabled = step[1]
        _same(general, fast)
        assert fast.state == general.state


def test_the_note_story_reaches_every_verdict() -> None:
    s = BillValidatorSettings(denominations=[5, 10], dirty_after_notes=5, cash_box_capacity=30)
    modes = CATALOG.for_device("bill_validator") + CATALOG.for_device("cash_box")
    validator = BillValidator(simpy.Environment(), s, modes)
    validator.state.accepting = {1}
    got = [validator.path.stack_counted([5, 10, 7]) for _ in range(8)]
    assert got[0] == (1, 5, 2)  # 10 inhibited, 7 no such note
    assert validator.has(SENSOR_DIRTY)  # and the dirty sensor then rejects some 5s too
    assert any(stacked == 0 for stacked, _, _ in got)


# -- printer -----------------------------------------------------------------------------------
def general_print(printer: Printer, mm: float, rows: int, receipt: str) -> None:
    """A receipt on the counters, method by method (what print_counted writes out)."""
    printer.mechanism.advance(mm, rows)
    printer.cut_receipt(receipt)


print_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("print"),
            st.floats(0.0, 400.0),
            st.integers(0, 3000),
            st.sampled_from(["", "RECEIPT\n1.00"]),
            st.integers(1, 20),
        ),
        st.tuples(
            st.just("fault"),
            st.sampled_from([PAPER_OUT, NEAR_END, PRINTER_HEAD_DIRTY]),
            st.booleans(),
        ),
        st.tuples(st.just("status"), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(steps=print_steps, limit=st.sampled_from([None, 3]))
def test_a_counted_receipt_is_the_printers_own_advance_and_cut(
    steps: list[tuple[Any, ...]], limit: int | None
) -> None:
    s = PrinterSettings(roll_length_m=3.0, near_end_m=1.0, head_clean_interval_m=2.0)
    modes = CATALOG.for_device("printer")
    general, fast = (Printer(simpy.Environment(), s, modes) for _ in range(2))
    for printer in (general, fast):
        printer.log_limit = limit
    for step in steps:
        if step[0] == "print":
            _, mm, rows, receipt, times = step
            for _ in range(times):
                fast.print_counted(mm, rows, receipt)
                general_print(general, mm, rows, receipt)
        elif step[0] == "fault":
            for printer in (general, fast):
                _fault_step(printer, step[1], step[2])
        assert fast.state == general.state  # before status() settles the paper
        assert fast.receipts == general.receipts
        assert fast.receipts_printed == general.receipts_printed
        _same(general, fast)


def test_the_receipt_story_runs_the_paper_out_and_dirties_the_head() -> None:
    s = PrinterSettings(roll_length_m=3.0, near_end_m=1.0, head_clean_interval_m=2.0)
    printer = Printer(simpy.Environment(), s, CATALOG.for_device("printer"))
    for _ in range(30):
        printer.print_counted(100.0, 500, "R")
    assert printer.has(NEAR_END) and printer.has(PAPER_OUT) and printer.has(PRINTER_HEAD_DIRTY)
    assert printer.state.cuts == 30 and printer.receipts_printed == 30


# -- a counters-mode kiosk's customers' waits --------------------------------------------------
def _counters_run(
    name: str, *, inline: bool, mtbf: bool, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    profile = kiosk_profile(name, usage=True, mtbf=mtbf, mode="counters")
    assert profile.usage is not None
    usage = profile.usage.model_copy(update={"repair_faults": True})
    faults = profile.faults.model_copy(update={"mtbf_scale": 40.0})
    profile = dataclasses.replace(profile, usage=usage, faults=faults)
    monkeypatch.setattr(KioskApp, "inline_waits", inline)
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-0001", profile, default_catalog(), seed=5)
    terminal.start()
    env.run(until=60 * DAY)
    assert terminal.app is not None
    return {
        "devices": {name: d.log for name, d in terminal.devices.items()},
        "status": terminal.status(),
        "app": terminal.app.log,
        "stats": terminal.app.status(),
        "events": next(env._eid),  # SimPy's count of events made
    }


@pytest.mark.parametrize("mtbf", [False, True], ids=["no-faults", "mtbf-faults"])
@pytest.mark.parametrize("name", ["bill_payment", "ticket"])
def test_counters_customers_waits_passed_in_place_change_nothing_that_is_recorded(
    name: str, mtbf: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    evented = _counters_run(name, inline=False, mtbf=mtbf, monkeypatch=monkeypatch)
    inline = _counters_run(name, inline=True, mtbf=mtbf, monkeypatch=monkeypatch)
    assert evented["stats"]["customers"] > 3000 and evented["stats"]["receipts"] > 300
    if mtbf:
        assert sum(e.startswith("fault ") for log in evented["devices"].values() for _, e in log)
    for key in ("devices", "status", "app", "stats"):
        assert inline[key] == evented[key], key
    assert inline["events"] < 0.5 * evented["events"]  # the shortcut is taken
