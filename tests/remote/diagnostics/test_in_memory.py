"""The serial-port diagnostics against in-memory links: a terminal in virtual time, its devices
reached through their byte sessions (no pty), stimuli acted on the devices directly. Fast and
exact; the coverage test (test_coverage.py) and the SSH tests run the same diagnostics end to
end on real ptys."""

from __future__ import annotations

from pathlib import Path

import pytest
from diag_kiosk import fast_profile
from memory_links import DirectStimulus, MemoryLinks, memory_terminal

from remote.diagnostics import Runner, catalog, diagnostics

SERIAL_TESTS = {"touchscreen", "display", "card_reader", "bill_validator", "cash_box", "print_head"}
TIMEOUT_S = 0.1  # in memory a device answers at once; silence is known in a tenth of a second


def runner(tmp_path: Path) -> tuple[Runner, object]:
    terminal, manifest = memory_terminal(fast_profile(tmp_path))
    links = MemoryLinks(terminal)
    return Runner(manifest, DirectStimulus(terminal), TIMEOUT_S, links), terminal


async def results(run: Runner, names: list[str]) -> dict[str, object]:
    return {r.test: r async for r in run.stream(names)}


@pytest.mark.timeout(20)
async def test_a_healthy_terminal_passes_every_serial_checklist_item(tmp_path: Path) -> None:
    run, _ = runner(tmp_path)
    got = await results(run, ["inspection"])
    passed = {t for t, r in got.items() if r.status == "pass"}  # type: ignore[attr-defined]
    assert passed == SERIAL_TESTS, got
    skipped = {t for t, r in got.items() if r.status == "skip"}  # type: ignore[attr-defined]
    assert skipped == set(diagnostics()) - SERIAL_TESTS  # no HTTP or Modbus in memory


FAULTS = sorted(f for f, m in catalog().items() if m.diagnostic in SERIAL_TESTS)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("fault_id", FAULTS)
async def test_each_serial_fault_is_named_by_its_diagnostic_alone(
    fault_id: str, tmp_path: Path
) -> None:
    run, terminal = runner(tmp_path)
    mode = catalog()[fault_id]
    terminal.inject(fault_id)  # type: ignore[attr-defined]
    got = await results(run, sorted(SERIAL_TESTS))
    found = got[mode.diagnostic]
    assert found.status in ("fail", "warn") and found.suspect == fault_id, got  # type: ignore[attr-defined]
    others = {
        t: r for t, r in got.items()
        if t != mode.diagnostic and r.status not in ("pass", "skip")  # type: ignore[attr-defined]
    }  # fmt: skip
    assert not others, others
    terminal.clear(fault_id)  # type: ignore[attr-defined]
    again = await results(run, [mode.diagnostic])
    assert again[mode.diagnostic].status == "pass", again  # type: ignore[attr-defined]
