"""The receive buffer of a receipt printer that is offline (cover open, paper out, an error, the
FEED button held): print data waits here, up to :attr:`PrinterSettings.receive_buffer` bytes, and
is printed in order once the printer is back online. What does not fit is lost (a pty has no flow
control to hold the host back) and recorded as ``data_discarded``, throttled."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from devices.printer_settings import PrinterState
from devices.protocols import escpos as p
from devices.record_throttle import Throttle

if TYPE_CHECKING:
    from devices.base import Device

DISCARDS_PER_SECOND = 20
"""Discarded messages recorded one by one per second (host clock); the rest are counted."""


class ReceiveBuffer:
    """Messages held while offline. Their byte count is the printer's
    :attr:`PrinterState.queued_bytes` (shared with it: the status shows it)."""

    def __init__(self, state: PrinterState, size: int) -> None:
        self.state = state
        self.size = size
        self.queue: deque[p.Message] = deque()
        """The messages held, oldest first (read, never changed, by the printer's one-piece
        path, which asks whether anything is held without a call)."""
        self._discards = Throttle("data_discarded", "data_discards_suppressed")

    def __bool__(self) -> bool:
        """Whether anything is held."""
        return bool(self.queue)

    def hold(self, msg: p.Message, device: Device[Any]) -> None:
        """Keep ``msg`` for later, or lose it (recorded on ``device``) when it does not fit."""
        size = _size(msg)
        if self.state.queued_bytes + size > self.size:
            self._discards.note(device, DISCARDS_PER_SECOND, size, bytes=size)
            return
        self.queue.append(msg)
        self.state.queued_bytes += size

    def pop(self) -> p.Message:
        """The oldest held message, taken out to be printed."""
        msg = self.queue.popleft()
        self.state.queued_bytes -= _size(msg)
        return msg

    def clear(self) -> None:
        """Drop everything held (cleared by the host, or power-cycled)."""
        self.queue.clear()
        self.state.queued_bytes = 0


def _size(msg: p.Message) -> int:
    """Bytes ``msg`` takes in the buffer (about what it took on the wire)."""
    if isinstance(msg, p.Text | p.Unknown):
        return len(msg.data)
    if isinstance(msg, p.Raster | p.BitImage | p.Barcode):
        return len(msg.data) + 8
    if isinstance(msg, p.Block):
        return len(msg.payload) + 7
    if isinstance(msg, p.Command):
        return len(msg.prefix) + len(msg.args)
    return 1
