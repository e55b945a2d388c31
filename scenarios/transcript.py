"""Wire transcripts of a simulated kiosk: every chunk of bytes between a host and a stream
device, and every Modbus TCP and HTTP request and reply of the served devices, both ways, with
its simulated and wall time, recorded to a JSON-lines file; and the comparison that checks a new
run of kiosk software against a golden transcript, reporting the first divergence decoded by the
device's codec.

The format (one JSON object per line)::

    {"transcript": "kiosk-workbench", "version": 1, "terminal": "KSK-TEST", "profile": "...",
     "speed": 60.0, "wall_start": 1796160000.0}
    {"t": 32100.512, "wall": 0.734, "device": "printer", "session": 1, "dir": "in", "hex": "1b40"}
    {"t": 32100.513, "wall": 0.735, "device": "printer", "session": 1, "dir": "out", "hex": "12"}
    {"t": 32101.2, "wall": 0.9, "device": "ups", "session": 1, "dir": "in", "hex": "...",
     "kind": "modbus"}

``t`` is simulated seconds (the environment's clock), ``wall`` wall seconds since the header,
``dir`` is ``in`` (host to device) or ``out`` (device to host), ``session`` numbers the host
connections of a device (a pty open, a TCP connection) in the order they began. A served
port's lines have a ``kind`` (``modbus``: one whole ADU a line; ``http``: a request head or a
whole response); a stream device's have none.

Comparison looks at what the kiosk software sent (``in``), message by message as each device's
codec reads it (ESC/POS commands and text, SSP commands with the sequence flag aside and a run
of POLLs counted as one, card-reader frame texts, Modbus requests with the transaction id aside,
HTTP request lines with the headers aside, raw chunks otherwise): the time a host takes and how
often it polls change from run to run; what it says must not. A served port's messages are
compared as their own stream, named ``device/kind`` (``ups/modbus``, ``host_pc/http``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.protocols import escpos, stx_bcc
from devices.protocols import modbus_tcp as mbap
from devices.protocols import ssp as ssp_codec
from devices.protocols import ssp_messages as sm
from devices.transcript import FORMAT, VERSION, Recorder
from workbench.errors import ConfigError

__all__ = [
    "FORMAT",
    "VERSION",
    "Chunk",
    "Divergence",
    "Recorder",
    "compare_files",
    "findings",
    "first_divergence",
    "read",
]


# -- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Chunk:
    t: float
    wall: float
    device: str
    session: int
    direction: str
    data: bytes
    kind: str = ""
    """A served port's kind (``modbus``, ``http``); empty for a stream device's bytes."""

    @property
    def stream(self) -> str:
        """What its messages are compared as: the device, or ``device/kind`` for a served port."""
        return f"{self.device}/{self.kind}" if self.kind else self.device


def read(path: str | Path) -> tuple[dict[str, Any], list[Chunk]]:
    """A transcript's header and chunks (a one-line error naming the file and line when bad)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the transcript: {exc.strerror}") from None
    lines = text.splitlines()
    cut = not text.endswith("\n")  # a kiosk killed while it wrote its last line
    try:
        header = json.loads(lines[0]) if lines else {}
        if header.get("transcript") != FORMAT:
            raise ValueError("no kiosk-workbench header")
        if header.get("version") != VERSION:
            raise ValueError(f"version {header.get('version')} (this workbench reads {VERSION})")
    except ValueError as exc:
        raise ConfigError(f"{p}:1: not a transcript: {exc}") from None
    chunks = []
    for n, text in enumerate(lines[1:], start=2):
        try:
            d = json.loads(text)
            chunks.append(
                Chunk(
                    float(d["t"]),
                    float(d["wall"]),
                    str(d["device"]),
                    int(d["session"]),
                    str(d["dir"]),
                    bytes.fromhex(d["hex"]),
                    str(d.get("kind", "")),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            if cut and n == len(lines):  # half a line at the end: what came before stands
                break
            raise ConfigError(f"{p}:{n}: not a transcript line: {exc}") from None
    return header, chunks


# -- messages as each codec reads them -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Message:
    """One message a host sent, as its device's codec reads it."""

    device: str
    key: bytes
    """What is compared (the sequence flag and the CRC aside for SSP)."""
    text: str
    """The codec's reading, for people."""
    t: float
    wall: float


def _escpos(device: str, chunks: list[Chunk]) -> Iterator[Message]:
    """Commands as the codec reads them; text line by line, however the writes were cut."""
    parser = escpos.Parser()
    text, at = b"", (0.0, 0.0)
    for c in chunks:
        for msg in parser.feed(c.data):
            if isinstance(msg, escpos.Text):
                if not text:
                    at = (c.t, c.wall)
                text += msg.data
                *lines, text = text.split(b"\n")
                for line in lines:
                    yield Message(device, line + b"\n", repr(escpos.Text(line + b"\n")), *at)
                    at = (c.t, c.wall)
                continue
            if text:
                yield Message(device, text, repr(escpos.Text(text)), *at)
                text = b""
            yield Message(device, _escpos_bytes(msg), repr(msg), c.t, c.wall)
    if text:
        yield Message(device, text, repr(escpos.Text(text)), *at)


def _escpos_bytes(msg: escpos.Message) -> bytes:
    """The bytes a parsed ESC/POS message stood for (text and plain commands exactly; the
    codec's reading for graphics and blocks)."""
    if isinstance(msg, escpos.Text | escpos.Unknown):
        return bytes(msg.data)
    if isinstance(msg, escpos.Command):
        return bytes(msg.prefix) + bytes(msg.args)
    return repr(msg).encode()


def _ssp(device: str, chunks: list[Chunk]) -> Iterator[Message]:
    deframer = ssp_codec.Deframer()
    last_poll = False
    for c in chunks:
        for item in deframer.feed(c.data):
            if isinstance(item, ssp_codec.BadFrame):
                yield Message(
                    device, b"bad:" + item.raw, f"dropped frame ({item.reason})", c.t, c.wall
                )
                last_poll = False
                continue
            poll = item.data[:1] == bytes([sm.Command.POLL])
            if poll and last_poll:
                continue  # how often a host polls is its own business
            last_poll = poll
            try:
                name = sm.Command(item.data[0]).name if item.data else "empty"
            except ValueError:
                name = f"0x{item.data[0]:02X}"
            params = item.data[1:].hex(" ")
            yield Message(
                device, item.data, f"SSP {name}{' ' + params if params else ''}", c.t, c.wall
            )


def _framed(device: str, chunks: list[Chunk]) -> Iterator[Message]:
    deframer = stx_bcc.Deframer()
    for c in chunks:
        for item in deframer.feed(c.data):
            if isinstance(item, bytes):
                yield Message(device, item, f"frame {item!r}", c.t, c.wall)
            elif isinstance(item, stx_bcc.BadFrame):
                yield Message(device, b"bad:" + item.raw, f"bad frame ({item.reason})", c.t, c.wall)
            else:
                yield Message(device, bytes([item.byte]), f"control 0x{item.byte:02X}", c.t, c.wall)


def _modbus(device: str, chunks: list[Chunk]) -> Iterator[Message]:
    """One request an ADU: the unit id and PDU compared (the transaction id is the client's
    counter), the function and its fields shown."""
    for c in chunks:
        if len(c.data) < mbap.MBAP_SIZE:
            yield Message(device, b"short:" + c.data, f"short frame {c.data.hex(' ')}", c.t, c.wall)
            continue
        header = mbap.Header.decode(c.data)
        unit_pdu = c.data[mbap.MBAP_SIZE - 1 :]
        text = f"Modbus unit {header.unit}: {mbap.describe(c.data[mbap.MBAP_SIZE :])}"
        if header.protocol != 0:
            text = f"not Modbus (protocol id {header.protocol}): {c.data.hex(' ')}"
        yield Message(device, unit_pdu, text, c.t, c.wall)


def _http(device: str, chunks: list[Chunk]) -> Iterator[Message]:
    """One request a head: its request line compared and shown (headers vary by client)."""
    for c in chunks:
        line = c.data.split(b"\r\n", 1)[0]
        yield Message(device, line, f"HTTP {line.decode('latin-1')}", c.t, c.wall)


def _raw(device: str, chunks: list[Chunk]) -> Iterator[Message]:
    for c in chunks:
        yield Message(device, c.data, c.data.hex(" "), c.t, c.wall)


READERS: dict[str, Callable[[str, list[Chunk]], Iterator[Message]]] = {
    "printer": _escpos,
    "bill_validator": _ssp,
    "card_reader": _framed,
}


KIND_READERS: dict[str, Callable[[str, list[Chunk]], Iterator[Message]]] = {
    "modbus": _modbus,
    "http": _http,
}


def messages(chunks: list[Chunk], direction: str = "in") -> dict[str, list[Message]]:
    """Per device (``device/kind`` for a served port), the messages of one direction, read by
    the device's codec."""
    by_stream: dict[str, list[Chunk]] = {}
    for c in chunks:
        if c.direction == direction:
            by_stream.setdefault(c.stream, []).append(c)
    out = {}
    for stream, cs in by_stream.items():
        kind = cs[0].kind
        reader = KIND_READERS.get(kind, _raw) if kind else READERS.get(stream, _raw)
        out[stream] = list(reader(stream, cs))
    return out


@dataclass(frozen=True, slots=True)
class Divergence:
    """Where a run first differs from the golden transcript."""

    device: str
    index: int
    expected: Message | None
    actual: Message | None
    byte: int | None
    """Offset of the first differing byte inside the message (None when one side is missing)."""

    def describe(self) -> str:
        """One paragraph: time, device, message, the byte, both decoded."""
        where = self.actual or self.expected
        assert where is not None
        head = (
            f"{self.device}: message {self.index + 1} differs at simulated {where.t:.3f} s "
            f"(wall {where.wall:.3f} s)"
        )
        if self.expected is None:
            return (
                f"{head}: not in the golden transcript: {self.actual.text if self.actual else ''}"
            )
        if self.actual is None:
            return f"{head}: missing from this run: {self.expected.text}"
        assert self.byte is not None
        e, a = self.expected.key, self.actual.key
        eb = f"0x{e[self.byte]:02X} {chr(e[self.byte])!r}" if self.byte < len(e) else "end"
        ab = f"0x{a[self.byte]:02X} {chr(a[self.byte])!r}" if self.byte < len(a) else "end"
        return (
            f"{head}, byte {self.byte}: expected {eb}, got {ab}\n"
            f"  expected: {self.expected.text}\n  actual:   {self.actual.text}"
        )


def first_divergence(golden: list[Chunk], actual: list[Chunk]) -> Divergence | None:
    """Compare what the host sent, device by device; the earliest divergence (by time) or None."""
    want, got = messages(golden), messages(actual)
    found: list[Divergence] = []
    for device in sorted(set(want) | set(got)):
        w, g = want.get(device, []), got.get(device, [])
        for i in range(max(len(w), len(g))):
            e = w[i] if i < len(w) else None
            a = g[i] if i < len(g) else None
            if e is not None and a is not None and e.key == a.key:
                continue
            byte = None
            if e is not None and a is not None:
                byte = next(
                    (n for n, (x, y) in enumerate(zip(e.key, a.key, strict=False)) if x != y),
                    min(len(e.key), len(a.key)),
                )
            found.append(Divergence(device, i, e, a, byte))
            break
    if not found:
        return None
    return min(found, key=lambda d: (d.actual or d.expected).t)  # type: ignore[union-attr]


def compare_files(golden: str | Path, actual: str | Path) -> Divergence | None:
    """:func:`first_divergence` of two transcript files."""
    return first_divergence(read(golden)[1], read(actual)[1])


# -- strict mode: what a real unit would hold against its host -------------------------------------
def findings(chunks: list[Chunk]) -> list[str]:
    """Host misbehaviour visible in a transcript: SSP commands that reuse the sequence flag of
    a different command, SSP frames with a bad CRC, card-reader frames with a bad BCC."""
    out: list[str] = []
    ssp_state: dict[int, tuple[bool, bytes]] = {}
    deframers: dict[tuple[str, int], Any] = {}
    for c in chunks:
        if c.direction != "in":
            continue
        if c.device == "bill_validator":
            deframer = deframers.setdefault((c.device, c.session), ssp_codec.Deframer())
            for item in deframer.feed(c.data):
                if isinstance(item, ssp_codec.BadFrame):
                    out.append(f"bill_validator at {c.t:.3f} s: SSP frame with a bad {item.reason}")
                    continue
                code = item.data[0] if item.data else -1
                prev = ssp_state.get(c.session)
                if (
                    code != sm.Command.SYNC
                    and prev is not None
                    and prev[0] == item.seq
                    and prev[1] != item.data
                ):
                    out.append(
                        f"bill_validator at {c.t:.3f} s: SSP sequence flag not toggled "
                        f"(0x{code:02X} sent with the flag of the previous, different command)"
                    )
                ssp_state[c.session] = (item.seq, item.data)
        elif c.device == "card_reader":
            deframer = deframers.setdefault((c.device, c.session), stx_bcc.Deframer())
            for frame in deframer.feed(c.data):
                if isinstance(frame, stx_bcc.BadFrame):
                    out.append(
                        f"card_reader at {c.t:.3f} s: frame with a bad {frame.reason.upper()}"
                    )
    return out
