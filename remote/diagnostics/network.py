"""Checklist item "network": the terminal's network agent ``GET /health``
(:class:`devices.protocols.health.NetworkHealth`: link, name resolution of the service host),
then probes on its echo port: pipelined ``PING`` lines for round-trip time and loss, and one
``BULK`` transfer for the uplink's throughput.

Every timing is judged against a loopback baseline measured in the same check: the same probes
sent at the same moments to a zero-delay echo in this process (:class:`LoopbackEcho`). What this
host adds (a busy event loop, other kiosks in the process, other work on the cores) shows in
both; the uplink's share is the per-probe excess over the baseline, and its median is judged.
A host too busy to carry even the baseline is an error of the test, not a slow uplink.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass

from devices.protocols.health import (
    bulk_line,
    parse_command,
    parse_network_health,
    parse_pong,
    ping_line,
)
from remote.diagnostics.base import (
    CHECKLIST_TEXT,
    Context,
    Diagnostic,
    LinkTimeout,
    PortUnreachable,
    Report,
    TestError,
)
from remote.diagnostics.links import split_address
from workbench.errors import ProtocolError, TransportError

log = logging.getLogger(__name__)

LINK_DOWN = "network.link_down"
LATENCY = "network.high_latency"
LOSS = "network.packet_loss"
DNS = "network.dns_failure"
BANDWIDTH = "network.bandwidth_low"
PROBES = 200  # at the modelled 20 % loss, 5 % or fewer lost by chance has p < 1e-8 (20 gave 7 %)
LATENCY_LIMIT_MS = 300.0
LOSS_LIMIT_PCT = 5.0
BANDWIDTH_LIMIT_MBIT = 1.0
BULK_BYTES = 16 * 1024
BULK_CHUNK = 4096
"""The echo port sends a BULK answer in writes of this size; the baseline does the same."""
BASELINE_LIMIT_S = 20.0
"""A host that cannot echo the probes to itself within this long cannot measure an uplink."""

TRIES = 3
"""Measurements of a figure past its limit before it is reported (the best is kept)."""

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(frozen=True, slots=True)
class Probe:
    """One burst of echo probes: the uplink's median round trip over this host's own (inf when
    nothing came back), the share lost, the host's own median, and whether every probe came back."""

    rtt_ms: float
    lost_pct: float
    host_ms: float
    clean: bool


class LoopbackEcho:
    """A zero-delay echo port on 127.0.0.1 in this process, speaking the echo port's protocol:
    the baseline every timing of the check is compared with. It answers the way an echo port
    does (a PONG through a timer, a BULK in 4 KiB writes) with every delay zero, so each loop
    round a busy host adds to the device's answers, it adds to the baseline's too."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionError, ValueError):
            while line := await reader.readline():
                verb, arg = parse_command(line)
                if verb == "ping":  # through a timer, as the echo port answers, but due at once
                    loop.call_later(0, _answer, writer, f"PONG {arg}\n".encode())
                else:  # as a link of infinite bandwidth: the echo port's framing, no wait
                    left = int(arg)
                    while left > 0:
                        writer.write(b"x" * min(BULK_CHUNK, left))
                        left -= BULK_CHUNK
                        await writer.drain()
                        await asyncio.sleep(0)
        writer.close()

    @contextlib.asynccontextmanager
    async def stream(self) -> AsyncIterator[Stream]:
        """A connection to the echo, served while the block runs."""
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            yield reader, writer
        finally:
            writer.close()
            server.close()


def _answer(writer: asyncio.StreamWriter, line: bytes) -> None:
    if not writer.is_closing():
        writer.write(line)


async def _pongs(
    reader: asyncio.StreamReader, sent: dict[str, float], got: dict[str, float], want: int
) -> None:
    """Read PONG lines, stamping each token's arrival, until ``want`` arrived or EOF."""
    loop = asyncio.get_running_loop()
    while len(got) < want:
        line = await reader.readline()
        if not line:
            return
        token = parse_pong(line)
        if token in sent and token not in got:
            got[token] = loop.time()


async def _bulk(reader: asyncio.StreamReader, size: int, progress: list[float]) -> bool:
    """Read a BULK answer, keeping ``progress`` = [bytes so far, when the last came]; False when
    the stream ended early."""
    loop = asyncio.get_running_loop()
    while progress[0] < size:
        chunk = await reader.read(65536)
        if not chunk:
            return False
        progress[0] += len(chunk)
        progress[1] = loop.time()
    return True


class NetworkCheck(Diagnostic):
    """Uplink health: link, DNS, latency, loss, bandwidth."""

    name = "network"
    checklist = CHECKLIST_TEXT["network"]
    device = "network"
    silent_fault = LINK_DOWN

    async def check(self, ctx: Context, report: Report) -> None:
        address = ctx.port(self.device, "http")
        if address is None:
            report.fail(None, "the network agent has no health endpoint (http) in the manifest")
            return
        status, body = await ctx.links.http_get(address, "/health", max(1.0, ctx.timeout_s))
        if status != 200:
            raise ProtocolError(f"GET /health answered HTTP {status}")
        h = parse_network_health(body)
        report.measure("link", h.link)
        report.measure("dns", h.dns.status)
        if h.link != "up":
            report.fail(LINK_DOWN, f"{h.interface} link is down")
            return
        if h.dns.status != "ok":
            report.fail(DNS, f"{h.dns.host} does not resolve")
        if h.echo_port is None:
            report.note("no echo port: latency, loss and bandwidth not measured")
            return
        host, _ = split_address(address)
        try:
            device = await ctx.links.connect(f"{host}:{h.echo_port}", max(1.0, ctx.timeout_s))
        except (PortUnreachable, LinkTimeout) as exc:
            raise PortUnreachable(f"echo port: {exc}") from None
        try:
            async with LoopbackEcho().stream() as baseline:
                await self._measure(device, baseline, ctx, report)
        finally:
            device[1].close()

    async def _measure(
        self, device: Stream, baseline: Stream, ctx: Context, report: Report
    ) -> None:
        """Probe, and bulk on a clean line; a figure past its limit is measured again (up to
        ``TRIES`` times) and the best kept: an uplink is never faster than it is, while a host
        stall only ever makes it look slower."""
        probe = await self._probe(device, baseline, ctx, 0)
        tries = 1
        while tries < TRIES and (
            probe.rtt_ms > LATENCY_LIMIT_MS or probe.lost_pct > LOSS_LIMIT_PCT
        ):
            again = await self._probe(device, baseline, ctx, tries)
            probe = Probe(min(probe.rtt_ms, again.rtt_ms), min(probe.lost_pct, again.lost_pct),
                          min(probe.host_ms, again.host_ms), probe.clean or again.clean)  # fmt: skip
            tries += 1
        report.measure("probes", PROBES * tries, "probes")
        report.measure("packet_loss", probe.lost_pct, "%")
        report.measure("host_round_trip_median", probe.host_ms, "ms")
        if not math.isinf(probe.rtt_ms):
            report.measure("rtt_median", max(probe.rtt_ms, 0.0), "ms")
        if probe.rtt_ms > LATENCY_LIMIT_MS and not math.isinf(probe.rtt_ms):
            report.warn(
                LATENCY,
                f"echo round trip {probe.rtt_ms:.0f} ms over this host's own (limit "
                f"{LATENCY_LIMIT_MS:g}; best of {tries})",
            )
        if probe.lost_pct > LOSS_LIMIT_PCT:
            report.warn(
                LOSS, f"{probe.lost_pct:.0f} % of {PROBES} echo probes lost (best of {tries})"
            )
        if ctx.quick or not probe.clean:
            return  # a lossy line leaves PONGs in flight: no clean bulk measurement
        mbit, host_ms = await self._throughput(device, baseline)
        tries = 1
        while tries < TRIES and mbit < BANDWIDTH_LIMIT_MBIT:
            more, host_again = await self._throughput(device, baseline)
            mbit, host_ms = max(mbit, more), min(host_ms, host_again)
            tries += 1
        report.measure("bandwidth", mbit, "Mbit/s")
        report.measure("host_transfer", host_ms, "ms")
        if mbit < BANDWIDTH_LIMIT_MBIT:
            report.warn(
                BANDWIDTH,
                f"uplink throughput {mbit:.2f} Mbit/s (limit {BANDWIDTH_LIMIT_MBIT:g}; best of {tries})",
            )

    async def _probe(self, device: Stream, baseline: Stream, ctx: Context, attempt: int) -> Probe:
        """One burst of pipelined probes to the device and the baseline."""
        loop = asyncio.get_running_loop()
        sent: dict[str, float] = {}
        got: dict[str, float] = {}
        base_got: dict[str, float] = {}
        for i in range(PROBES):  # each probe to the device and the baseline at the same moment
            token = f"a{attempt}p{i}"
            sent[token] = loop.time()
            device[1].write(ping_line(token))
            baseline[1].write(ping_line(token))
        start = loop.time()
        reading = asyncio.ensure_future(_pongs(device[0], sent, got, PROBES))
        try:
            try:
                await asyncio.wait_for(
                    _pongs(baseline[0], sent, base_got, PROBES), BASELINE_LIMIT_S
                )
            except TimeoutError:
                raise TestError(
                    f"this host did not echo {PROBES} probes to itself within "
                    f"{BASELINE_LIMIT_S:g} s: too busy to measure the uplink"
                ) from None
            host_s = loop.time() - start
            # a probe still out once the baseline is back, the latency limit twice over and the
            # host's own time again have passed, is lost
            grace = host_s + 2 * LATENCY_LIMIT_MS / 1000 + ctx.timeout_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reading), grace)
        finally:
            reading.cancel()
        excess = [(got[t] - base_got[t]) * 1000 for t in got if t in base_got]
        return Probe(
            statistics.median(excess) if excess else math.inf,
            100.0 * (PROBES - len(got)) / PROBES,
            statistics.median((base_got[t] - sent[t]) * 1000 for t in base_got),
            len(got) == PROBES,
        )

    async def _throughput(self, device: Stream, baseline: Stream) -> tuple[float, float]:
        """One BULK transfer from the device and the same from the baseline, side by side; the
        uplink's time is the device's less the baseline's. Returns (Mbit/s, the host's ms)."""
        loop = asyncio.get_running_loop()
        device[1].write(bulk_line(BULK_BYTES))
        baseline[1].write(bulk_line(BULK_BYTES))
        start = loop.time()
        mine, theirs = [0.0, start], [0.0, start]
        from_device = asyncio.ensure_future(_bulk(device[0], BULK_BYTES, theirs))
        try:
            try:
                await asyncio.wait_for(_bulk(baseline[0], BULK_BYTES, mine), BASELINE_LIMIT_S)
            except TimeoutError:
                raise TestError(
                    "this host is too busy to measure the uplink's throughput"
                ) from None
            host_s = mine[1] - start
            limit_s = 2 * BULK_BYTES * 8 / (BANDWIDTH_LIMIT_MBIT * 1e6)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(from_device), host_s + limit_s)
            if from_device.done() and not from_device.result():
                raise TransportError("echo port closed during the bulk transfer")
            if not from_device.done():  # the rest is still on the way: wait for it, unjudged
                await asyncio.wait_for(from_device, BASELINE_LIMIT_S)
        finally:
            from_device.cancel()
        wire_s = max(theirs[1] - start - host_s, 1e-6)
        return min(theirs[0] * 8 / wire_s / 1e6, 1000.0), host_s * 1000
