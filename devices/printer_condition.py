"""What the receipt printer's sensors and error logic report: the condition every status byte
comes from (offline, cover open, FEED button, paper near end and out, the error kinds), and the
answers to the real-time status queries ``DLE EOT 0-4`` in it.

The condition is a function of the active faults and the FEED button, so it is worked out again
only when they change, and its ``DLE EOT`` answers with it: a kiosk asks two of them before every
receipt, and a session answers from :attr:`PrinterCondition.answers` as they stand.

:class:`PrinterCondition` is a mixin of :class:`devices.printer.Printer` (its methods run on the
printer itself, with no extra attribute hop); the printer calls :meth:`_init_condition` from its
constructor and refreshes :attr:`answers` where the faults or the button change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.printer_settings import PrinterState
from devices.protocols import escpos_status as st
from workbench.fault_ids.printer import (
    COVER_OPEN,
    CUTTER_JAM,
    NEAR_END,
    OFFLINE,
    OVERHEAT,
    PAPER_JAM,
    PAPER_OUT,
)

__all__ = ["PrinterCondition", "realtime_answers"]


def realtime_answers(cond: st.Condition) -> tuple[bytes, ...]:
    """The answers to ``DLE EOT 0-4`` in ``cond`` (0 has none)."""
    return tuple(st.realtime_status(cond, n) for n in range(5))


class PrinterCondition:
    """The printer's sensed condition and real-time status answers, for the printer that mixes
    it in (it provides ``active``, ``has`` and ``state``)."""

    active: dict[str, float]
    state: PrinterState

    if TYPE_CHECKING:

        def has(self, fault_id: str) -> bool: ...

    def _init_condition(self) -> None:
        self._condition: tuple[tuple[object, ...], st.Condition, tuple[bytes, ...]] = (
            (),
            st.Condition(),
            realtime_answers(st.Condition()),
        )
        """The last condition worked out, the FEED button and faults it was worked out from, and
        its answers to ``DLE EOT 0-4``."""
        self.answers = self._condition[2]
        """The answers to ``DLE EOT 0-4`` in the condition in force, worked out again where what
        it depends on changes (:meth:`devices.printer.Printer._changed`: every fault raised or
        cleared, the FEED button pressed and let go): a session answers a kiosk's two queries a
        customer from here."""

    def condition(self) -> st.Condition:
        """What the sensors and error logic report now (the source of every status byte): a
        function of the active faults and the FEED button, worked out again when they change."""
        key = (self.state.feeding, *self.active)
        if key != self._condition[0]:
            cond = self._sensed()
            self._condition = (key, cond, realtime_answers(cond))
        return self._condition[1]

    def _sensed(self) -> st.Condition:
        out, cover, feeding = self.has(PAPER_OUT), self.has(COVER_OPEN), self.state.feeding
        cutter, jam, hot = self.has(CUTTER_JAM), self.has(PAPER_JAM), self.has(OVERHEAT)
        error = cutter or jam or hot or self.has(OFFLINE)
        return st.Condition(
            offline=out or cover or feeding or error,
            cover_open=cover,
            feeding=feeding,
            paper_end_stop=out,
            error=error,
            cutter_error=cutter,
            unrecoverable_error=jam,
            auto_recoverable_error=hot,
            near_end=out or self.has(NEAR_END),
            paper_end=out,
        )
