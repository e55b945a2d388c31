"""A display diagnostic that gave up (every reply late) leaves its replies on the line: DDC/CI
has no input flush, so they arrive during the next session. Each names its VCP code, but a
late reply to Get VCP 0xD6 is not the answer to the next session's Get VCP 0xD6: the host
remembers what it is still owed on the port and reads past it (a Get of another code first)
instead of taking it for the display's state; an agent that starts afresh knows nothing of its
ports' lines and reads past whatever is on each before its first Get there.

The replies are made late on the kiosk's own wire (a downstream latency toxic on its pty), as
the late-reply tests make them."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
import simpy
from diag_kiosk import Kiosk, busy
from memory_links import MemoryLink

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.protocols import mccs
from devices.protocols.hosts.ddc import MARKER, RETRIES
from devices.protocols.hosts.ddc import DdcHost as DDC
from devices.terminal import Terminal
from remote.diagnostics import run
from remote.diagnostics.base import LinkTimeout
from remote.diagnostics.display import LEFT_ON_LINE, UNKNOWN, DdcHost

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(45)]
TIMEOUT_S = 0.25
"""The host's reply timeout in these tests."""
LATE_MS = 1500
"""How late every reply comes: past every try of the first Get (four of a quarter second), so
the session gives up with all four replies still owed."""


async def test_the_next_session_is_not_answered_by_replies_a_session_gave_up_on(
    kiosk: Kiosk,
) -> None:
    """The display is in standby while every reply is late: the session gives up on its first
    Get VCP 0xD6, owed four replies saying 'standby'. The display is woken, the line is quick
    again, and the next session runs while those replies arrive: it reads the display's own
    answer, 'on', and asks nothing to be switched on. Before, it read a leftover 'standby', set
    0xD6 = 1, read another leftover and failed the display as having no video signal."""
    assert (RETRIES + 1) * TIMEOUT_S * 1000 < LATE_MS
    display = kiosk.terminal.devices["display"]
    [first] = await run(["display"], kiosk.endpoints, timeout_s=TIMEOUT_S)  # the agent's first
    assert first.status == "pass", first
    display.set_vcp(mccs.VCP_POWER_MODE, mccs.POWER_STANDBY)
    try:
        async with busy(kiosk, "display", LATE_MS):
            [gave_up] = await run(["display"], kiosk.endpoints, timeout_s=TIMEOUT_S)
    finally:
        display.set_vcp(mccs.VCP_POWER_MODE, mccs.POWER_ON)
    assert gave_up.status == "fail", gave_up
    assert gave_up.detail == (
        f"display does not answer: no reply to Get VCP 0xD6 ({RETRIES + 1} tries of "
        f"{TIMEOUT_S:g} s)"
    )
    since = len(display.log)
    [result] = await run(["display"], kiosk.endpoints, timeout_s=TIMEOUT_S)
    assert (result.status, result.suspect) == ("pass", None), result
    assert result.measurements["power_mode"]["value"] == mccs.POWER_ON
    sets = [text for _, text in display.log[since:] if text.startswith("vcp_set")]
    assert sets == [], "the host asked a display that was on to switch on"


AGENT = """
import asyncio, json, sys
from remote.diagnostics import run

async def main():
    endpoints = json.loads(sys.argv[1])
    for _ in range(int(sys.argv[2])):
        if sys.stdin.readline() == "":
            return
        [result] = await run(["display"], endpoints, timeout_s=float(sys.argv[3]))
        print(json.dumps([result.status, result.suspect, result.detail,
                          result.measurements.get("power_mode", {}).get("value")]), flush=True)

asyncio.run(main())
"""
"""An agent process's display checks: one per line read on its stdin, each result printed."""


class _Agent:
    """A diagnostics agent in a process of its own, started (and its imports done) before it is
    asked for a check, so that it opens the port the moment it is asked."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, kiosk: Kiosk, checks: int) -> _Agent:
        endpoints = json.dumps(kiosk.endpoints)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", AGENT, endpoints, str(checks), str(TIMEOUT_S),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[3],
        )  # fmt: skip
        return cls(proc)

    async def check(self) -> list[object]:
        """One display check; [status, suspect, detail, power mode]."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"go\n")
        line = await self.proc.stdout.readline()
        assert line, "the agent process died"
        result: list[object] = json.loads(line)
        return result

    async def stop(self) -> None:
        if self.proc.returncode is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            await self.proc.wait()


async def test_an_agent_started_afresh_is_not_answered_by_replies_the_last_one_was_owed(
    kiosk: Kiosk,
) -> None:
    """One agent process gives up on Get VCP 0xD6 (every reply late, the display in standby) and
    exits, four 'standby' replies still owed; the next agent starts with no memory of them, and
    its check runs as they arrive. It reads past whatever is on the line first (one Get of 0xDF)
    and passes, sets nothing. Before, remembering owed replies only while its process ran, it
    read a leftover 'standby', set 0xD6 = 1 on a display that was on, read another leftover and
    failed it: 'power mode 2 even after Set 0xD6=1: no video signal'."""
    display = kiosk.terminal.devices["display"]
    gone, fresh = await _Agent.start(kiosk, 2), await _Agent.start(kiosk, 1)
    try:
        assert await gone.check() == ["pass", None, "", mccs.POWER_ON]
        display.set_vcp(mccs.VCP_POWER_MODE, mccs.POWER_STANDBY)
        try:
            async with busy(kiosk, "display", LATE_MS):
                gave_up = await gone.check()
                await gone.stop()  # the agent restarts: what it was owed is forgotten
        finally:
            display.set_vcp(mccs.VCP_POWER_MODE, mccs.POWER_ON)
        assert gave_up[:3] == [
            "fail",
            None,
            f"display does not answer: no reply to Get VCP 0xD6 ({RETRIES + 1} tries of "
            f"{TIMEOUT_S:g} s)",
        ]
        since = len(display.log)
        assert await fresh.check() == ["pass", None, "", mccs.POWER_ON]
    finally:
        await gone.stop()
        await fresh.stop()
    sets = [text for _, text in display.log[since:] if text.startswith("vcp_set")]
    assert sets == [], "the host asked a display that was on to switch on"


def _display_line(path: str) -> MemoryLink:
    """A line to a display of the shipped profile, in virtual time (its replies come at once)."""
    terminal = Terminal(simpy.Environment(), "MEM", load_profile("bill_payment"), default_catalog())
    return MemoryLink(path, terminal.devices["display"], terminal.env)


def _standby_reply() -> bytes:
    reply = mccs.VcpReply(
        mccs.RESULT_OK,
        mccs.VCP_POWER_MODE,
        mccs.TYPE_SET_PARAMETER,
        mccs.POWER_HARD_OFF,
        mccs.POWER_STANDBY,
    )
    return mccs.encode_reply(reply.payload())


async def test_a_host_reads_past_what_it_is_owed_and_a_lost_leftover_costs_one_get() -> None:
    """What the host does, on a line with no timing in it: replies it is owed for 0xD6 are in
    before its next Get of 0xD6 is answered, and are read past (a Get of 0xDF first); when they
    were lost instead, the marker is answered at once and the display's own answer taken."""
    for path, stale in (
        ("mem:display-a", _standby_reply() * (RETRIES + 1)),
        ("mem:display-b", b""),
    ):
        LEFT_ON_LINE[path] = {mccs.VCP_POWER_MODE}  # as a session that gave up leaves it
        async with _display_line(path) as link:
            link._pushed(stale)  # already on the line when this session begins
            host = DdcHost(link, TIMEOUT_S)
            assert (await host.get(mccs.VCP_POWER_MODE)).current == mccs.POWER_ON
            assert host.left == set() and LEFT_ON_LINE[path] == set()
            assert link.drain_input() == b""  # nothing left over for the next Get


async def test_a_get_given_up_on_is_remembered_for_the_port() -> None:
    """No reply to any try: the code is owed on that port, for the next session to read past;
    a Get of the marker code given up on is said as what it was for."""

    class Silent(MemoryLink):
        def write(self, data: bytes) -> None:
            pass

    path = "mem:display-silent"
    LEFT_ON_LINE[path] = set()  # known clean: a session of this agent read all it was owed
    terminal = Terminal(simpy.Environment(), "MEM", load_profile("bill_payment"), default_catalog())
    async with Silent(path, terminal.devices["display"], terminal.env) as link:
        with pytest.raises(LinkTimeout, match=r"^no reply to Get VCP 0xD6 \(4 tries of 0.05 s\)$"):
            await DdcHost(link, 0.05).get(mccs.VCP_POWER_MODE)
        assert LEFT_ON_LINE[path] == {mccs.VCP_POWER_MODE}
        with pytest.raises(LinkTimeout) as info:
            await DdcHost(link, 0.05).get(mccs.VCP_POWER_MODE)
        assert str(info.value) == (
            f"no reply to Get VCP 0x{MARKER:02X}, asked to read past late replies to Get VCP "
            "0xD6 (4 tries of 0.05 s)"
        )
        assert LEFT_ON_LINE[path] == {mccs.VCP_POWER_MODE, MARKER}


async def test_a_port_the_agent_has_not_used_is_read_past_before_its_first_get() -> None:
    """A port not in the agent's memory (it started since) may hold what an earlier agent was
    owed: its first Get is of 0xDF, and every 'standby' reply before that answer is read past.
    Whether the 0xDF reply taken was its own or an earlier agent's, 0xDF is not the marker
    again on that line until a Get is answered."""

    class Noting(MemoryLink):
        def write(self, data: bytes) -> None:
            asked.append(data)
            super().write(data)

    def gets(*codes: int) -> list[bytes]:
        return [DDC.get(code).request for code in codes]

    asked: list[bytes] = []
    path = "mem:display-fresh"
    LEFT_ON_LINE.pop(path, None)
    terminal = Terminal(simpy.Environment(), "MEM", load_profile("bill_payment"), default_catalog())
    async with Noting(path, terminal.devices["display"], terminal.env) as link:
        link._pushed(_standby_reply() * (RETRIES + 1))  # an earlier agent's leftovers
        host = DdcHost(link, TIMEOUT_S)
        assert host.left == {UNKNOWN}
        assert (await host.get(mccs.VCP_POWER_MODE)).current == mccs.POWER_ON
        assert asked == gets(MARKER, mccs.VCP_POWER_MODE)
        assert LEFT_ON_LINE[path] == set() and link.drain_input() == b""
        assert (await host.get(mccs.VCP_LUMINANCE)).current > 0
        assert asked == gets(MARKER, mccs.VCP_POWER_MODE, mccs.VCP_LUMINANCE)  # known clean now


async def test_a_fresh_port_whose_display_is_silent_says_what_the_first_get_was_for() -> None:
    """The first Get on a port not known is the marker; given up on, the line stays not known
    and the next session marks with another code (0xDF may be owed now)."""

    class Silent(MemoryLink):
        def write(self, data: bytes) -> None:
            pass

    path = "mem:display-fresh-silent"
    LEFT_ON_LINE.pop(path, None)
    terminal = Terminal(simpy.Environment(), "MEM", load_profile("bill_payment"), default_catalog())
    async with Silent(path, terminal.devices["display"], terminal.env) as link:
        with pytest.raises(LinkTimeout) as info:
            await DdcHost(link, 0.05).get(mccs.VCP_POWER_MODE)
        assert str(info.value) == (
            f"no reply to Get VCP 0x{MARKER:02X}, asked to read past whatever an earlier session "
            "left on the line (4 tries of 0.05 s)"
        )
        assert LEFT_ON_LINE[path] == {UNKNOWN, MARKER}
        with pytest.raises(LinkTimeout, match=r"^no reply to Get VCP 0x00, asked to read past"):
            await DdcHost(link, 0.05).get(mccs.VCP_POWER_MODE)


async def test_a_get_cut_short_leaves_the_line_not_known() -> None:
    """A check cancelled while a Get waits (the agent's session closed) may still be owed its
    reply: the port is not known clean for the next session."""
    path = "mem:display-cut"
    LEFT_ON_LINE[path] = set()

    class Slow(MemoryLink):
        def write(self, data: bytes) -> None:
            pass

    terminal = Terminal(simpy.Environment(), "MEM", load_profile("bill_payment"), default_catalog())
    async with Slow(path, terminal.devices["display"], terminal.env) as link:
        task = asyncio.create_task(DdcHost(link, 5.0).get(mccs.VCP_POWER_MODE))
        await asyncio.sleep(0)  # the Get is written and waits
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert LEFT_ON_LINE[path] == {UNKNOWN}


async def test_a_marker_taken_on_a_line_not_known_may_not_have_been_its_own() -> None:
    """On a line not known, the 0xDF reply that ends the read-past may be one an earlier agent
    left (a reply to its own marker), with this one's still to come, after whatever that agent
    left next: if this session then gives up, its next marker is another code, not 0xDF."""

    class AnswersOnce(MemoryLink):
        answered = False

        def write(self, data: bytes) -> None:
            if not self.answered:
                self.answered = True
                super().write(data)

    path = "mem:display-marker"
    LEFT_ON_LINE.pop(path, None)
    terminal = Terminal(simpy.Environment(), "MEM", load_profile("bill_payment"), default_catalog())
    async with AnswersOnce(path, terminal.devices["display"], terminal.env) as link:
        with pytest.raises(LinkTimeout, match=r"^no reply to Get VCP 0xD6 \("):
            await DdcHost(link, 0.05).get(mccs.VCP_POWER_MODE)
    assert LEFT_ON_LINE[path] == {MARKER, mccs.VCP_POWER_MODE}
