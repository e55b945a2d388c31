"""A hash of every byte a simulated kiosk's application and its devices exchange, and when:
each session's feed with its reply, and the touch packets the controller pushes (for the tests
that hold two ways of running a kiosk to the same bytes on the wire)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import simpy

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
