"""A noisy event recorded at most so many times a second: line noise can raise thousands of them
a megabyte (unknown commands, data lost to a full receive buffer), and each record is a row in the
store, written while the port waits. The rest of a second are counted in one summary record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.base import Device


@dataclass(slots=True)
class Throttle:
    """One second's records of a noisy event (the second runs on the host clock)."""

    kind: str
    summary: str
    """The kind of the record that counts the suppressed ones."""
    start: float = float("-inf")
    recorded: int = 0
    suppressed: int = 0
    bytes: int = 0

    def note(self, device: Device[Any], per_second: int, size: int, **detail: Any) -> None:
        """Record one event on ``device`` as ``kind``, unless ``per_second`` were recorded this
        second already: then count it (and its ``size`` bytes), to be recorded as ``summary
        count= bytes=`` when the next one comes in a later second."""
        now = device.env.now
        if now - self.start >= device.host_span(1.0):
            if self.suppressed:
                extra = {"bytes": self.bytes} if self.bytes else {}
                device.record(self.summary, count=self.suppressed, **extra)
            self.start, self.recorded, self.suppressed, self.bytes = now, 0, 0, 0
        if self.recorded < per_second:
            device.record(self.kind, **detail)
            self.recorded += 1
        else:
            self.suppressed += 1
            self.bytes += size
