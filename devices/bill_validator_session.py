"""A host's connection to the bill validator: the SSP slave link at address 0 in front of the
unit (:class:`devices.bill_validator.BillValidator`), restarted when the unit reboots, silent
while it is out of service, and running a known plain frame's command straight away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.base import Session
from devices.protocols.ssp_slave import SlaveLink

if TYPE_CHECKING:
    from devices.bill_validator import BillValidator

__all__ = ["BillValidatorSession"]


class BillValidatorSession(SlaveLink, Session):
    """One host connection: the SSP slave link at address 0 in front of the validator. The session
    is the link, so that a poll costs one call here and the unit's own function."""

    def __init__(self, device: BillValidator) -> None:
        commands = device.commands
        super().__init__(0, device.handle, commands.is_sync, commands.direct)
        self.device = device
        self._generation = device.state.generation

    def feed(self, data: bytes) -> bytes:
        """Bytes from the host in, framed replies out."""
        device = self.device
        state = device.state
        if state.generation != self._generation:
            self._generation = state.generation
            self.restart()
        if device.commands.out_of_service:
            self.forget_reply()  # out of service is silent, to retries too
            return SlaveLink.feed(self, data)
        # A whole plain frame the link knows, carrying a new command (not a retry: a SYNC, the
        # command after one, or the other flag; see SlaveLink._answer), runs the command's
        # function straight away when the unit answers, as its handler would run it.
        if type(data) is bytes and not self.deframer.in_frame:  # (a bytearray: byte loop)
            known = self.known[data]
            if known is not None:
                seq, _, sync, function, params, replies = known  # (one unpacking, no lookups)
                if (
                    function is not None
                    and (sync or self.after_sync or seq != self.last_seq)
                    and device.answering
                ):
                    reply = function(params)
                    self.last_seq, self.last_reply, self.after_sync = seq, reply, sync
                    return replies[reply]
        return SlaveLink.feed(self, data)
