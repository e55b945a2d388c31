"""Recording a simulated terminal's wire transcript: every chunk of bytes between a host and a
stream device, and every Modbus TCP and HTTP request and reply of the served devices, both
ways, with its simulated and wall time, one JSON object per line.

The format is documented with its reader and comparison, :mod:`scenarios.transcript`; the
kiosk host puts a :class:`Recorder` around each stream device's sessions when asked to record
(``KioskHost(..., transcript=PATH)``, ``workbench kiosk up --record PATH``) and a tap on each
served device's Modbus and HTTP ports (:meth:`Recorder.tap_port`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from devices.base import Session, Writer
from devices.transports import Port
from devices.transports.listener import Listener, Tap
from workbench.errors import ConfigError

FORMAT = "kiosk-workbench"
VERSION = 1
TAPPED = ("modbus", "http")
"""The served ports whose requests and replies are recorded (each line names its ``kind``)."""
FLUSH_S = 1.0
"""Longest a recorded line waits in the buffer before it is written out (wall seconds): a kiosk
killed with SIGKILL (a CI time-out, the OOM killer) lost its whole transcript, header and all."""


class Recorder:
    """Writes one terminal's transcript; :meth:`wrap` puts it around a device's session factory."""

    def __init__(
        self, path: str | Path, now: Callable[[], float], header: dict[str, Any] | None = None
    ) -> None:
        self.path = Path(path)
        self._now = now
        self._wall0 = time.time()
        self._sessions: dict[str, int] = {}
        try:
            self._file: IO[str] | None = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot write the transcript: {exc.strerror}") from None
        head = {
            "transcript": FORMAT,
            "version": VERSION,
            **(header or {}),
            "wall_start": self._wall0,
        }
        self._file.write(json.dumps(head) + "\n")
        self._file.flush()
        self._flush_due = False

    def write(self, device: str, session: int, direction: str, data: bytes, kind: str = "") -> None:
        """Append one chunk (``kind``: the served port's, ``modbus`` or ``http``; a stream
        device's chunks have none)."""
        if self._file is None or not data:
            return
        line: dict[str, Any] = {
            "t": round(self._now(), 6),
            "wall": round(time.time() - self._wall0, 6),
            "device": device,
            "session": session,
            "dir": direction,
            "hex": data.hex(),
        }
        if kind:
            line["kind"] = kind
        self._file.write(json.dumps(line) + "\n")
        if not self._flush_due:
            self._flush_due = True
            try:
                asyncio.get_running_loop().call_later(FLUSH_S, self.flush)
            except RuntimeError:  # no event loop (a virtual run): written at close
                pass

    def flush(self) -> None:
        """Push what was recorded to the file (a reader is about to look, or :data:`FLUSH_S`
        has passed since a line was recorded)."""
        self._flush_due = False
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def tap_port(self, device: str, port: Port) -> None:
        """Record each request and reply of a served device's Modbus or HTTP port (other ports:
        nothing), the port's connections numbered as sessions."""
        if isinstance(port, Listener) and port.kind in TAPPED:
            port.tap = self._tap(device, port.kind)

    def _tap(self, device: str, kind: str) -> Tap:
        def tap(connection: int, direction: str, data: bytes) -> None:
            self.write(device, connection, direction, data, kind)

        return tap

    def wrap(self, device: str, factory: Callable[[], Session]) -> Callable[[], Session]:
        """A session factory whose sessions record what passes through them."""

        def make() -> Session:
            self._sessions[device] = self._sessions.get(device, 0) + 1
            return _RecordingSession(factory(), self, device, self._sessions[device])

        return make


class _RecordingSession(Session):
    """A byte session that records its traffic on the way through (a :class:`Session` itself,
    so the pty attaches its writer and unprompted bytes are recorded and delivered)."""

    def __init__(self, inner: Session, recorder: Recorder, device: str, number: int) -> None:
        self._inner = inner
        self._recorder = recorder
        self._device = device
        self._number = number

    def feed(self, data: bytes) -> bytes:
        self._recorder.write(self._device, self._number, "in", data)
        reply = self._inner.feed(data)
        self._recorder.write(self._device, self._number, "out", reply)
        return reply

    def attach(self, write: Writer) -> None:
        """Unsolicited output (touch packets, status pushes) is recorded too."""

        def send(data: bytes) -> None:
            self._recorder.write(self._device, self._number, "out", data)
            write(data)

        self._inner.attach(send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
