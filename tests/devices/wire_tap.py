"""A hash of every byte a simulated kiosk's application and its devices exchange, and when:
each session's feed with its reply, and the touch packets the controller pushes (for the tests
that hold two ways of running a kiosk to the same bytes on the wire)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import simpy

from devices.terminal import Terminal
from devices.usage import KioskApp


def tap_wire(env: simpy.Environment, app: KioskApp) -> hashlib._Hash:
    """Wrap ``app``'s sessions so that every exchange, with its simulated time and device, goes
    into the returned hash as it happens."""
    wire = hashlib.sha256()
    for name, session in app._sessions.items():

        def feed(
            data: bytes, name: str = name, feed: Callable[[bytes], bytes] = session.feed
        ) -> bytes:
            reply = feed(data)
            wire.update(repr((env.now, name, data, reply)).encode())
            return reply

        session.feed = feed  # type: ignore[method-assign]
    touch = app._sessions.get("touchscreen")
    if touch is not None:

        def heard(data: bytes, read: Callable[[bytes], None] = app._on_touch_bytes) -> None:
            wire.update(repr((env.now, "touch", data)).encode())
            read(data)

        touch.attach(heard)
    return wire


def outcome(terminal: Terminal, app: KioskApp, wire: hashlib._Hash) -> dict[str, Any]:
    """What a run of ``terminal`` shows, for two ways of running it to be held the same: the
    bytes on the wire (:func:`tap_wire`'s hash), every device's log and the terminal's status,
    the application's log and counters."""
    return {
        "wire": wire.hexdigest(),
        "devices": {name: d.log for name, d in terminal.devices.items()},
        "status": terminal.status(),
        "app": app.log,
        "stats": app.status(),
    }
