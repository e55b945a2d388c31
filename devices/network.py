"""The terminal's uplink to the service host: latency, jitter, loss and bandwidth, a resolver, and
the link itself; probed through a TCP echo port and described by the network agent's ``/health``.

Latency, jitter and bandwidth are host-facing time (the two-clock rule of
:mod:`workbench.clock`): a client measures a round trip in its own seconds whatever the
simulation speed, so the echo port paces its answers with asyncio timers on the wall clock (as
the wire-fault layer does), not with simulated time. Link state, DNS and the figures themselves
are model state, changed by faults in simulated time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

import simpy

from devices.base import EventSink, ServedDevice, action
from devices.protocols.health import DnsStatus, NetworkHealth, parse_command
from devices.transports.http import HttpPort
from devices.transports.listener import Listener
from workbench.config import Strict
from workbench.errors import DeviceError, ProtocolError
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

LINK_DOWN = "network.link_down"
HIGH_LATENCY = "network.high_latency"
PACKET_LOSS = "network.packet_loss"
DNS_FAILURE = "network.dns_failure"
BANDWIDTH_LOW = "network.bandwidth_low"

CHUNK = 4096


class NetworkSettings(Strict):
    """A DSL/4G-class uplink to the service host."""

    interface: str = "eth0"
    service_host: str = "service.kiosk.example"
    service_address: str = "203.0.113.10"
    latency_ms: float = 25.0
    jitter_ms: float = 5.0
    loss_pct: float = 0.0
    bandwidth_mbps: float = 20.0
    high_latency_ms: float = 450.0
    lossy_pct: float = 20.0
    low_bandwidth_mbps: float = 0.5


@dataclass(slots=True)
class LinkState:
    """The uplink as the model has it now."""

    up: bool
    latency_ms: float
    jitter_ms: float
    loss_pct: float
    bandwidth_mbps: float
    dns_ok: bool = True
    probes: int = 0
    lost: int = 0


class Network(ServedDevice[NetworkSettings]):
    """The uplink. Action: ``flush-dns`` (the remote remedy for a stale resolver)."""

    kind = "network"

    def __init__(
        self,
        env: simpy.Environment,
        settings: NetworkSettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        s = settings
        self.link = LinkState(True, s.latency_ms, s.jitter_ms, s.loss_pct, s.bandwidth_mbps)
        self.echo_ports: list[EchoPort] = []

    def _apply(self, fault_id: str, active: bool) -> None:
        s, link = self.settings, self.link
        if fault_id == LINK_DOWN:
            link.up = not active
            for port in self.echo_ports:
                port.request_listening(link.up)
        elif fault_id == HIGH_LATENCY:
            link.latency_ms = s.high_latency_ms if active else s.latency_ms
        elif fault_id == PACKET_LOSS:
            link.loss_pct = s.lossy_pct if active else s.loss_pct
        elif fault_id == DNS_FAILURE:
            link.dns_ok = not active
        elif fault_id == BANDWIDTH_LOW:
            link.bandwidth_mbps = s.low_bandwidth_mbps if active else s.bandwidth_mbps

    @action("flush-dns", "Flush the resolver cache")
    def _act_flush_dns(self) -> str:
        self.record("dns_flushed")
        self.clear(DNS_FAILURE)
        return "resolver cache flushed"

    # -- what a probe meets --------------------------------------------------------------------
    def round_trip_s(self) -> float | None:
        """The wall seconds one probe takes now, or None when it is lost."""
        link = self.link
        link.probes += 1
        if self.rng.random() * 100 < link.loss_pct:
            link.lost += 1
            return None
        jitter = self.rng.uniform(-link.jitter_ms, link.jitter_ms)
        return max(0.0, link.latency_ms + jitter) / 1000

    def health(self) -> NetworkHealth:
        """The network agent's ``/health`` document."""
        s, link = self.settings, self.link
        resolves = link.up and link.dns_ok
        return NetworkHealth(
            interface=s.interface,
            link="up" if link.up else "down",
            dns=DnsStatus(
                host=s.service_host,
                status="ok" if resolves else "fail",
                address=s.service_address if resolves else None,
            ),
            echo_port=self.echo_ports[0].port if self.echo_ports else None,
        )

    def status(self) -> dict[str, Any]:
        """Faults, the modelled link figures and the probe counters."""
        link = self.link
        return {
            **super().status(),
            "link": "up" if link.up else "down",
            "latency_ms": link.latency_ms,
            "jitter_ms": link.jitter_ms,
            "loss_pct": link.loss_pct,
            "bandwidth_mbps": link.bandwidth_mbps,
            "dns": "ok" if link.dns_ok else "fail",
            "probes": link.probes,
            "lost": link.lost,
        }

    def open_port(self, kind: str, host: str) -> EchoPort | HttpPort:
        """``tcp``: the echo port; ``http``: the agent's ``GET /health``."""
        if kind == "tcp":
            port = EchoPort(self, host=host, name=f"{self.name}/echo")
            self.echo_ports.append(port)
            return port
        if kind == "http":
            return HttpPort(
                {"/health": lambda: self.health().model_dump(mode="json")},
                host=host,
                name=f"{self.name}/health",
                clock=self,
            )
        raise DeviceError(f"{self.name} has no {kind!r} port; it serves tcp (echo) and http")


class EchoPort(Listener):
    """Answers ``PING`` after the modelled round trip (or never, when the probe is lost) and
    ``BULK n`` at the modelled bandwidth; refuses connections while the link is down."""

    kind = "tcp"
    abort_on_stop = True  # a link going down leaves no orderly goodbye

    def __init__(
        self, network: Network, host: str = "127.0.0.1", port: int = 0, name: str = "echo"
    ) -> None:
        super().__init__(host, port, name)
        self.network = network

    async def start(self) -> None:
        """Bind the port (kept for the port's life) and listen while the link is up."""
        await super().start()
        if not self.network.link.up:
            await self._stop_listening()

    async def close(self) -> None:
        """Stop listening and drop connections."""
        await super().close()
        if self in self.network.echo_ports:
            self.network.echo_ports.remove(self)

    async def __aenter__(self) -> EchoPort:
        await self.start()
        return self

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while line := await reader.readline():
                try:
                    verb, arg = parse_command(line)
                except ProtocolError as exc:
                    writer.write(f"ERR {exc}\n".encode())
                    await writer.drain()
                    continue
                if verb == "ping":
                    self.network.catch_up()  # the link as the model has it now
                    delay = self.network.round_trip_s()
                    if delay is not None:
                        loop.call_later(delay, self._send, writer, f"PONG {arg}\n".encode())
                else:
                    await self._bulk(writer, int(arg))
                await writer.drain()  # a client that does not read stops being read
        except ValueError:
            pass  # a line longer than the reader's limit

    @staticmethod
    def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
        if not writer.is_closing():
            writer.write(data)

    async def _bulk(self, writer: asyncio.StreamWriter, size: int) -> None:
        # Throughput only (PING measures the round trip). Each chunk is due at an absolute time
        # from the start, so a late wake-up of a busy event loop is made up, not accumulated.
        link = self.network.link
        loop = asyncio.get_running_loop()
        start = loop.time()
        sent = 0
        while sent < size:
            n = min(CHUNK, size - sent)
            due = start + (sent + n) * 8 / (link.bandwidth_mbps * 1e6)  # its time on the wire
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            writer.write(b"x" * n)
            await writer.drain()
            sent += n
