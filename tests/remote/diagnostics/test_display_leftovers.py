"""A display diagnostic that gave up (every reply late) leaves its replies on the line: DDC/CI
has no input flush, so they arrive during the next session. Each names its VCP code, but a
late reply to Get VCP 0xD6 is not the answer to the next session's Get VCP 0xD6: the host
remembers what it is still owed on the port and reads past it (a Get of another code first)
instead of taking it for the display's state.

The replies are made late on the kiosk's own wire (a downstream latency toxic on its pty), as
the late-reply tests make them."""

from __future__ import annotations

import pytest
import simpy
from diag_kiosk import Kiosk, busy
from memory_links import MemoryLink

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.protocols import mccs
from devices.protocols.hosts.ddc import MARKER, RETRIES
from devices.terminal import Terminal
from remote.diagnostics import run
from remote.diagnostics.base import LinkTimeout
from remote.diagnostics.display import LEFT_ON_LINE, DdcHost

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
    LEFT_ON_LINE.pop(path, None)
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
