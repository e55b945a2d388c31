"""A request answered on its second try whose first try's reply comes in the same chunk as the
answer (a line that delivers in bursts): the owed reply is counted there, not waited for.
Before, the answer's parser passed over the rest of that chunk and the link no longer had it:
the host waited two more timeouts for a reply it had already received, logged that it 'did not
all come', and took it for a try never answered (the display then marked the code as owed on
the port; the SSP host counted it as silence, which keeps the validator reset remedy from
sending a lost RESET again)."""

from __future__ import annotations

import pytest
import simpy
from memory_links import MemoryLink

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.protocols import mccs
from devices.terminal import Terminal
from remote.diagnostics.display import LEFT_ON_LINE, DdcHost
from remote.diagnostics.ssp_host import SspHost

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(20)]
TIMEOUT_S = 0.2


class Burst(MemoryLink):
    """The first request's reply is held back and comes with the second's, in one chunk."""

    held: bytes | None = None

    def write(self, data: bytes) -> None:
        reply = self.session.feed(data)
        self.env.run(until=self.env.now + 0.2)
        if self.held is None:
            self.held = reply
            return
        self._pushed(self.held + reply)
        self.held = b""


def _line(device: str, path: str) -> Burst:
    terminal = Terminal(simpy.Environment(), "MEM", load_profile("bill_payment"), default_catalog())
    return Burst(path, terminal.devices[device], terminal.env)


async def test_a_get_vcp_reply_owed_in_the_answers_chunk_is_counted() -> None:
    path = "mem:display-burst"
    LEFT_ON_LINE[path] = set()
    async with _line("display", path) as link:
        reply = await DdcHost(link, TIMEOUT_S).get(mccs.VCP_POWER_MODE)
    assert reply.current == mccs.POWER_ON
    assert LEFT_ON_LINE[path] == set()  # nothing owed on the port


async def test_an_ssp_reply_owed_in_the_answers_chunk_is_counted() -> None:
    async with _line("bill_validator", "mem:validator-burst") as link:
        host = SspHost(link, TIMEOUT_S)
        await host.sync()
        assert (host.every_try_answered, host.owing) == (True, False)


async def test_a_touch_reply_owed_in_the_answers_chunk_is_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The touch driver's reader (which keeps touches) has read that chunk already: the owed
    reply is counted with a reader of its own, and no touch is kept twice."""
    from devices.protocols import touch as t
    from remote.diagnostics.touchscreen import TouchHost

    caplog.set_level("INFO", logger="remote.diagnostics.asking")
    async with _line("touchscreen", "mem:touch-burst") as link:
        host = TouchHost(link, TIMEOUT_S)
        reply = await host.command(bytes([t.FIRMWARE]))
        assert reply[:1] == bytes([t.FIRMWARE])
        assert (await host.command(bytes([t.CHECK_ACTIVE])))[:1] == bytes([t.CHECK_ACTIVE])
    assert "did not all come" not in caplog.text
    assert host.touches == []
