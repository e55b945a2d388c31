"""A note offered with ``workbench kiosk act`` on a kiosk at ``--speed 60``, as a host polling the
validator's pty every 200 ms sees it: the command's request reaches the kiosk without the command
loading the simulator (it only sends one line to the control socket), the unit reads and rejects a
note it does not know in its own 2.5 simulated seconds (42 ms wall at 60x), and the host has
READ 0, REJECTING and REJECTED at its next poll. Two such commands at once: each note taken in is
seen rejected; one offered while the other is in the path is turned away, as at a real bezel.

The command once imported ``devices.control`` for its client, and with it the whole simulator
(556 modules: simpy, numpy, pydantic, every device model), 0.4-0.8 s of start-up before its
request left, up to 1.4 s with two at once on a busy 2-core machine: the seconds between a
trainer's ``kiosk act`` and the host's REJECTED went there, not into the unit.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_host_clock import REJECTED, REJECTING, setup
from test_ssp_host import SspHost, events

from devices.kiosk import KioskHost

READ = 0xEF
POLL_S = 0.2
CASH_ONLY = "name: cash_only\ndevices:\n  bill_validator:\n    transports: [serial]\n"

CLI = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write(json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["workbench", *sys.argv[1:]]
from workbench.cli import main
main()
"""
"""``workbench`` as its console script runs it, saying on stderr, as it exits, every module it
loaded."""
SIMULATOR = ("devices.terminal", "devices.bill_validator", "simpy", "numpy", "pydantic")


@pytest.fixture
def profile(state_dir: Path) -> Path:
    path = state_dir / "cash_only.yaml"
    path.write_text(CASH_ONLY)
    return path


Polls = list[tuple[float, list[tuple[int, Any]]]]


def poll(host: SspHost, stop: threading.Event, seen: Polls) -> None:
    """Poll every 200 ms of the host's own clock until ``stop``; each poll's events go to
    ``seen`` with the wall time (``time.time()``) its reply came in."""
    due = time.monotonic()
    while not stop.is_set():
        reply = host.cmd(0x07)
        assert reply is not None, "the validator did not answer a poll"
        seen.append((time.time(), events(reply)))
        due += POLL_S
        stop.wait(max(0.0, due - time.monotonic()))


def rejections(seen: Polls) -> int:
    return sum(code == REJECTED for _, evs in list(seen) for code, _ in evs)


async def act(state_dir: Path, *args: str) -> tuple[str, list[str]]:
    """Run ``workbench kiosk act ARGS``; what it printed and the modules it loaded."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLI,
        "kiosk",
        "act",
        *args,
        "--state-dir",
        str(state_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode(), json.loads(err.decode().splitlines()[-1])


@pytest.mark.timeout(40)
async def test_kiosk_act_offers_an_unknown_note_that_the_polling_host_sees_rejected_at_once(
    state_dir: Path, profile: Path
) -> None:
    taken: list[float] = []  # wall time the kiosk took each note in (its device log, as it ran)

    def listen(terminal: str, device: str, sim_time: float, kind: str, detail: Any) -> None:
        if kind == "note_inserted":
            taken.append(time.time())

    async with KioskHost(state_dir, profile, ["KSK-0001"], speed=60) as kiosk:
        kiosk.listeners.append(listen)
        validator = kiosk.terminals["KSK-0001"].devices["bill_validator"]
        path = kiosk.endpoints["KSK-0001"]["devices"]["bill_validator"]["serial"]
        host = await asyncio.to_thread(SspHost, path)
        stop = threading.Event()
        try:
            await asyncio.to_thread(setup, host)
            seen: Polls = []
            polling = asyncio.ensure_future(asyncio.to_thread(poll, host, stop, seen))
            one = await act(state_dir, "insert-unknown-note", "7")
            two = await asyncio.gather(  # a second visitor's note right behind a third's
                act(state_dir, "insert-unknown-note", "7"),
                act(state_dir, "insert-unknown-note", "9"),
            )
            end = time.monotonic() + 5.0  # the host polls on, on its own clock
            while rejections(seen) < len(taken) and time.monotonic() < end:
                await asyncio.sleep(0.05)
            stop.set()
            await polling
        finally:
            stop.set()
            host.close()
        log = list(validator.log)

    # what the trainer saw: each note taken in, or turned away while another was in the path
    assert one[0] == "KSK-0001: 7 EUR taken in\n"
    for (out, _), value in zip(two, (7, 9), strict=True):
        assert out in (
            f"KSK-0001: {value} EUR taken in\n",
            f"KSK-0001: {value} EUR not taken: another note in the path\n",
        ), out
    # the command sent one line to the control socket; it did not start up a simulator for that
    for _, loaded in (one, *two):
        assert [m for m in SIMULATOR if m in loaded] == [], "kiosk act loaded the simulator"
    texts = [text for _, text in log]
    notes = sum(text.startswith("note_inserted") for text in texts)
    assert notes == len(taken) == texts.count("rejected reason=AVERAGE_FAIL") >= 2, texts
    # the unit's own mechanics: read 1 s, reject 1.5 s, simulated (the first note's)
    first = {text: t for t, text in reversed(log)}
    assert first["rejected reason=AVERAGE_FAIL"] - first["reading value=7"] == pytest.approx(2.5)
    # the host: READ 0, REJECTING, REJECTED for each note, at its next poll after the kiosk took
    # the note in (200 ms, 42 ms of mechanics at 60x, and a busy machine's slack)
    codes = [code for _, evs in seen for code, _ in evs]
    assert codes.count(REJECTED) == notes, [hex(c) for c in codes]
    assert codes.count(READ) >= notes and codes.count(REJECTING) >= notes
    for took in taken:
        saw = min(t for t, evs in seen if t > took and any(c == REJECTED for c, _ in evs))
        assert saw - took < 1.0, f"REJECTED {saw - took:.2f} s after the kiosk took the note in"
