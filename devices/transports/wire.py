"""Wire faults between a device and its ports, in toxiproxy's vocabulary: each fault is a *toxic*
with a type, a stream (``upstream`` = host to device, ``downstream`` = device to host), a
``toxicity`` (the probability it applies to a chunk) and attributes.

Types (attributes, defaults): ``latency`` (latency ms, jitter ms), ``bandwidth`` (rate KB/s),
``timeout`` (stall: data stops; ``timeout`` ms then disconnect, 0 = stall forever),
``reset_peer`` (disconnect at once), ``slicer`` (average_size, size_variation bytes, delay us),
``limit_data`` (bytes, then disconnect), and, beyond toxiproxy, ``drop`` (rate per byte),
``corrupt`` (rate per byte: one bit flipped), ``noise`` (serial framing noise: rate of garbage
bytes inserted) and ``modem_loss`` (serial: the line goes dead both ways, as when DSR/DCD drop).

Latency is wall-clock time, as a client feels it, whatever the simulation speed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ConfigError

log = logging.getLogger(__name__)

TOXIC_TYPES: dict[str, dict[str, float]] = {
    "latency": {"latency": 0.0, "jitter": 0.0},
    "bandwidth": {"rate": 0.0},
    "timeout": {"timeout": 0.0},
    "reset_peer": {},
    "slicer": {"average_size": 1.0, "size_variation": 0.0, "delay": 0.0},
    "limit_data": {"bytes": 0.0},
    "drop": {"rate": 0.01},
    "corrupt": {"rate": 0.01},
    "noise": {"rate": 0.01},
    "modem_loss": {},
}
STREAMS = ("upstream", "downstream")


@dataclass(slots=True)
class Toxic:
    """One active wire fault."""

    name: str
    type: str
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, as toxiproxy's API shows a toxic."""
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": self.attributes,
        }


@dataclass(slots=True)
class Delivery:
    """What the wire makes of one chunk: pieces to send after delays, and whether to hang up."""

    pieces: list[tuple[float, bytes]]
    disconnect_after: float | None = None
    reset: bool = False
    """The hang-up is a TCP reset (``reset_peer``), not an orderly close."""


class Wire:
    """The toxics of one device, shared by all its ports."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random(0)
        self.toxics: dict[str, Toxic] = {}
        self._passed: dict[str, int] = {}

    def add(
        self,
        type: str,
        *,
        name: str | None = None,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: dict[str, float] | None = None,
    ) -> Toxic:
        """Add a toxic (refusing unknown types, streams and attributes with the valid ones)."""
        if type not in TOXIC_TYPES:
            raise ConfigError(f"unknown toxic type {type!r}; types: {', '.join(TOXIC_TYPES)}")
        if stream not in STREAMS:
            raise ConfigError(f"stream(={stream!r}) must be one of {', '.join(STREAMS)}")
        if not 0.0 <= toxicity <= 1.0:
            raise ConfigError(f"toxicity(={toxicity}) must be between 0 and 1")
        attrs = dict(TOXIC_TYPES[type])
        for key, value in (attributes or {}).items():
            if key not in attrs:
                valid = ", ".join(attrs) or "none"
                raise ConfigError(f"toxic {type!r} has no attribute {key!r}; attributes: {valid}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"toxic {type!r} {key}(={value!r}) must be a number") from None
            if not math.isfinite(number) or number < 0:
                raise ConfigError(f"toxic {type!r} {key}(={value!r}) must be a finite number >= 0")
            attrs[key] = number
        toxic = Toxic(name or f"{type}_{stream}", type, stream, toxicity, attrs)
        self.toxics[toxic.name] = toxic
        self._passed[toxic.name] = 0
        return toxic

    def remove(self, name: str) -> None:
        """Remove a toxic by name."""
        if name not in self.toxics:
            raise ConfigError(
                f"no toxic named {name!r}; toxics: {', '.join(self.toxics) or 'none'}"
            )
        del self.toxics[name]
        self._passed.pop(name, None)

    def clear(self) -> None:
        """Remove every toxic."""
        self.toxics.clear()
        self._passed.clear()

    def stall(self, stream: str) -> float | None:
        """None while ``stream`` flows; while a ``timeout`` or ``modem_loss`` toxic holds it, the
        seconds until its hang-up (0: none, the line stays silent until the toxic goes)."""
        for toxic in self.toxics.values():
            if toxic.toxicity < 1.0 and self.rng.random() >= toxic.toxicity:
                continue
            if toxic.type == "modem_loss":
                return 0.0
            if toxic.type == "timeout" and toxic.stream == stream:
                return toxic.attributes["timeout"] / 1000.0
        return None

    def carry(self, data: bytes, stream: str) -> Delivery:
        """Apply the stream's toxics, in the order they were added, to one chunk."""
        pieces: list[tuple[float, bytes]] = [(0.0, data)]
        disconnect: float | None = None
        reset = False
        for toxic in list(self.toxics.values()):
            if toxic.stream != stream and toxic.type != "modem_loss":
                continue
            if toxic.toxicity < 1.0 and self.rng.random() >= toxic.toxicity:
                continue
            pieces, hang = self._apply(toxic, pieces)
            if hang is not None and (disconnect is None or hang < disconnect):
                disconnect, reset = hang, toxic.type == "reset_peer"
        return Delivery([(d, b) for d, b in pieces if b], disconnect, reset)

    def _apply(
        self, toxic: Toxic, pieces: list[tuple[float, bytes]]
    ) -> tuple[list[tuple[float, bytes]], float | None]:
        a = toxic.attributes
        rng = self.rng
        kind = toxic.type
        if kind == "latency":
            extra = (a["latency"] + rng.uniform(-a["jitter"], a["jitter"])) / 1000.0
            return [(d + max(0.0, extra), b) for d, b in pieces], None
        if kind == "bandwidth" and a["rate"] > 0:
            out, t = [], 0.0
            for d, b in pieces:
                t = max(t, d) + len(b) / (a["rate"] * 1024.0)
                out.append((t, b))
            return out, None
        if kind in ("timeout", "modem_loss"):
            hang = a["timeout"] / 1000.0 if kind == "timeout" and a["timeout"] > 0 else None
            return [], hang
        if kind == "reset_peer":
            return [], 0.0
        if kind == "slicer":
            out = []
            for d, b in pieces:
                i, t = 0, d
                while i < len(b):
                    size = max(
                        1,
                        int(
                            a["average_size"]
                            + rng.uniform(-a["size_variation"], a["size_variation"])
                        ),
                    )
                    out.append((t, b[i : i + size]))
                    i += size
                    t += a["delay"] / 1e6
            return out, None
        if kind == "limit_data":
            budget = int(a["bytes"]) - self._passed[toxic.name]
            out = []
            for d, b in pieces:
                out.append((d, b[: max(0, budget)]))
                budget -= len(b)
            self._passed[toxic.name] = int(a["bytes"]) - max(budget, 0)
            return out, (0.0 if budget <= 0 else None)
        if kind == "drop":
            return [(d, bytes(x for x in b if rng.random() >= a["rate"])) for d, b in pieces], None
        if kind == "corrupt":
            return [
                (
                    d,
                    bytes(
                        x ^ (1 << rng.randrange(8)) if rng.random() < a["rate"] else x for x in b
                    ),
                )
                for d, b in pieces
            ], None
        if kind == "noise":
            noisy = []
            for d, b in pieces:
                buf = bytearray()
                for x in b:
                    if rng.random() < a["rate"]:
                        buf.append(rng.randrange(256))
                    buf.append(x)
                noisy.append((d, bytes(buf)))
            return noisy, None
        return pieces, None


PIPE_LIMIT = 1 << 20
"""Bytes one direction of a connection holds in flight on a toxic wire (delayed, throttled);
past it, pieces are dropped, as a congested link's queue drops its tail."""


class Pipe:
    """Carries one direction of a connection through a wire's toxics, keeping byte order: pieces
    wait in one queue, each for its time, and none overtakes another."""

    def __init__(
        self,
        wire: Wire | None,
        stream: str,
        deliver: Callable[[bytes], None],
        hangup: Callable[[], None],
        limit: int = PIPE_LIMIT,
        reset: Callable[[], None] | None = None,
    ) -> None:
        self.wire = wire
        self.stream = stream
        self._deliver = deliver
        self._hangup = hangup
        self._reset = reset or hangup
        """How a ``reset_peer`` hangs up (a TCP reset where the port has one)."""
        self.limit = limit
        self.pending = 0
        """Bytes waiting for their time."""
        self.dropped = 0
        """Bytes dropped because :attr:`pending` would have passed :attr:`limit`."""
        self._queue: deque[tuple[float, bytes | Callable[[], None]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def send(self, data: bytes) -> None:
        """Deliver now when the wire is clean and nothing waits, else as the toxics say."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self.wire is None or not self.wire.toxics:
            self._put(loop, now, now, data)
            return
        delivery = self.wire.carry(data, self.stream)
        for delay, piece in delivery.pieces:
            self._put(loop, now, now + delay, piece)
        if delivery.disconnect_after is not None:
            hang = self._reset if delivery.reset else self._hangup
            self._put(loop, now, now + delivery.disconnect_after, hang)

    def after(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` once every byte sent so far is delivered (an end of stream, a hang-up), or
        never while the stream is stalled (a ``timeout`` toxic: at its time-out)."""
        loop = asyncio.get_running_loop()
        stall = self.wire.stall(self.stream) if self.wire is not None else None
        if stall is None:
            now = loop.time()
            self._put(loop, now, now, fn)
        elif stall > 0:
            loop.call_later(stall, fn)

    def _put(
        self,
        loop: asyncio.AbstractEventLoop,
        now: float,
        at: float,
        item: bytes | Callable[[], None],
    ) -> None:
        if not self._queue and at <= now:
            self._run(item)
            return
        if isinstance(item, bytes):
            if self.pending + len(item) > self.limit:
                self.dropped += len(item)
                log.warning(
                    "wire %s: %d bytes in flight; %d dropped", self.stream, self.pending, len(item)
                )
                return
            self.pending += len(item)
        at = max(at, self._queue[-1][0]) if self._queue else at
        self._queue.append((at, item))
        if self._timer is None:
            self._timer = loop.call_at(at, self._due)

    def _due(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        while self._queue and self._queue[0][0] <= loop.time():
            _, item = self._queue.popleft()
            if isinstance(item, bytes):
                self.pending -= len(item)
            self._run(item)
        if self._queue:
            self._timer = loop.call_at(self._queue[0][0], self._due)

    def _run(self, item: bytes | Callable[[], None]) -> None:
        if isinstance(item, bytes):
            self._deliver(item)
        else:
            item()
