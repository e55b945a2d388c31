"""Checklist item "network": the terminal's network agent ``GET /health``
(:class:`devices.protocols.health.NetworkHealth`: link, name resolution of the service host),
then probes on its echo port: pipelined ``PING`` lines for round-trip time and loss, and one
``BULK`` transfer for the uplink's throughput.
"""

from __future__ import annotations

import asyncio
import logging
import statistics

from devices.protocols.health import bulk_line, parse_network_health, parse_pong, ping_line
from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, LinkTimeout, Report
from remote.diagnostics.links import http_get, split_address
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
        try:
            status, body = await http_get(address, "/health", max(1.0, ctx.timeout_s))
        except TransportError as exc:
            report.fail(LINK_DOWN, f"network health endpoint unreachable: {exc}")
            return
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
        await self._probe(host, h.echo_port, ctx, report)

    async def _probe(self, host: str, port: int, ctx: Context, report: Report) -> None:
        loop = asyncio.get_running_loop()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
        except (OSError, TimeoutError) as exc:
            report.fail(LINK_DOWN, f"echo port {host}:{port} unreachable: {exc}")
            return
        try:
            sent: dict[str, float] = {}
            rtts: list[float] = []
            for i in range(PROBES):
                token = f"p{i}"
                sent[token] = loop.time()
                writer.write(ping_line(token))
            await writer.drain()
            deadline = loop.time() + 2 * LATENCY_LIMIT_MS / 1000 + ctx.timeout_s
            while len(rtts) < PROBES:
                try:
                    line = await asyncio.wait_for(reader.readline(), deadline - loop.time())
                except TimeoutError:
                    break
                if not line:
                    break
                token = parse_pong(line)
                if token in sent:
                    rtts.append((loop.time() - sent.pop(token)) * 1000)
            lost = 100.0 * (PROBES - len(rtts)) / PROBES
            report.measure("probes", PROBES, "probes")
            report.measure("packet_loss", lost, "%")
            if rtts:
                report.measure("rtt_median", statistics.median(rtts), "ms")
                report.measure("rtt_max", max(rtts), "ms")
            if lost > LOSS_LIMIT_PCT:
                report.warn(LOSS, f"{lost:.0f} % of {PROBES} echo probes lost")
            if rtts and statistics.median(rtts) > LATENCY_LIMIT_MS:
                report.warn(
                    LATENCY,
                    f"echo round trip {statistics.median(rtts):.0f} ms (limit {LATENCY_LIMIT_MS:g})",
                )
            if ctx.quick or sent:
                return  # a lossy line leaves PONGs in flight: no clean bulk measurement
            await self._bulk(reader, writer, report)
        finally:
            writer.close()

    async def _bulk(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, report: Report
    ) -> None:
        loop = asyncio.get_running_loop()
        writer.write(bulk_line(BULK_BYTES))
        await writer.drain()
        start = loop.time()
        limit_s = 2 * BULK_BYTES * 8 / (BANDWIDTH_LIMIT_MBIT * 1e6)
        got = 0
        try:
            while got < BULK_BYTES:
                chunk = await asyncio.wait_for(reader.read(65536), start + limit_s - loop.time())
                if not chunk:
                    raise LinkTimeout("echo port closed during the bulk transfer")
                got += len(chunk)
        except TimeoutError:
            pass
        elapsed = max(loop.time() - start, 1e-6)
        mbit = got * 8 / elapsed / 1e6
        report.measure("bandwidth", mbit, "Mbit/s")
        if mbit < BANDWIDTH_LIMIT_MBIT:
            report.warn(
                BANDWIDTH, f"uplink throughput {mbit:.2f} Mbit/s (limit {BANDWIDTH_LIMIT_MBIT:g})"
            )
