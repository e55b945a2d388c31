"""The ESC/POS page's memo of settled layouts: what a whole chunk of print data (a kiosk's receipt,
sent in one write) does to a clean page, its steps that move paper or cut and the page state
after, worked out once per chunk and page state and remembered, so the same receipt from the
same state is one look-up instead of a message-by-message interpretation.

:class:`PageLayouts` is a mixin of :class:`devices.protocols.escpos_page.Page` (its methods run
on the page itself, with no extra attribute hop); :class:`Layout` and the page's other names are
importable from :mod:`devices.protocols.escpos_page` too. The printer's side of it (what a chunk
did on a page already settled in a layout's end) is :mod:`devices.printer_layout`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devices.protocols.escpos import Barcode, BitImage, Block, Command, Message, Raster, Tabs, Text

if TYPE_CHECKING:
    from devices.protocols.escpos_page import Modes, Page, Step

__all__ = ["Layout", "PageLayouts"]


@dataclass(frozen=True, slots=True, eq=False)
class Layout:
    """What a whole chunk of print data does to a page from a given state: the steps that move
    paper or cut, in order, their paper in all, and the page state after (see
    :meth:`Page.layout`). Compared and hashed as itself (a memo's key: :attr:`Page.settled`)."""

    steps: tuple[Step, ...]
    mm: float
    end: Page


_LAYOUTS: dict[tuple[bytes, tuple[object, ...]], Layout] = {}
"""Layouts of whole chunks from a clean page (a kiosk's receipt template, again and again)."""
_LAYOUTS_SIZE = 64


class PageLayouts:
    """Whole chunks' layouts for the page that mixes this in (it provides its modes, lines and
    the rest of its state, read by :meth:`_clean_key`, and :meth:`Page.adopt`)."""

    __slots__ = ()  # the page is a slotted dataclass: no instance dict through its base

    columns: int
    dpi: int
    modes: Modes
    lines: list[str]
    line: list[str]
    line_align: int
    line_width: int
    line_dots: float
    _codec: str
    _stripe: tuple[int, int] | None
    _last_stripe: tuple[int, int, int] | None

    def layout(self, data: bytes, messages: Sequence[Message]) -> Layout | None:
        """The layout of ``messages`` (the whole parse of ``data``) from this page's state, worked
        out once per chunk and state and remembered; the page is not changed. None unless the
        page is clean (nothing printed since the last cut) and every message is print data that
        only lays out (no status query, real-time or drawer command: those act on the printer)."""
        key = self._clean_key()
        if key is None:
            return None
        known = _LAYOUTS.get((data, key))
        if known is not None:
            return known
        if not all(_lays_out(msg) for msg in messages):
            return None
        from devices.protocols.escpos_page import NOTHING, Page  # the module mixing this in

        scratch = Page(columns=self.columns, dpi=self.dpi)
        scratch.adopt(self)
        steps = tuple(step for step in map(scratch.apply, messages) if step != NOTHING)
        layout = Layout(steps, sum(step[0] for step in steps), scratch)
        if len(_LAYOUTS) >= _LAYOUTS_SIZE:
            _LAYOUTS.clear()
        _LAYOUTS[(data, key)] = layout
        return layout

    def known_layout(self, data: bytes) -> Layout | None:
        """The remembered layout of ``data`` from this page's state, if there is one."""
        key = self._clean_key()
        return None if key is None else _LAYOUTS.get((data, key))

    def _clean_key(self) -> tuple[object, ...] | None:
        """Everything a chunk's layout depends on, when nothing is printed since the last cut."""
        if self.line or self.lines or self._stripe is not None:
            return None
        m = self.modes
        return (
            m.align, m.bold, m.font_b, m.width, m.height, m.codepage, m.spacing_dots,
            m.barcode_height, m.hri, m.qr_size, m.qr_ec, m.qr_data, m.graphics,
            self.line_align, self._codec, self._last_stripe, self.columns, self.dpi,
        )  # fmt: skip


_PRINTER_COMMANDS = frozenset(
    {b"\x10\x04", b"\x10\x05", b"\x1bp", b"\x1dr", b"\x1dI", b"\x1dg2", b"\x1dg0", b"\x1da"}
)
"""Commands that act on the printer rather than the page (status, real-time, drawer, counters)."""


def _lays_out(msg: Message) -> bool:
    """Whether a message only lays out on the page (a memoised :class:`Layout` may stand for it)."""
    if isinstance(msg, Text | Barcode | Raster | BitImage | Tabs):
        return True
    if isinstance(msg, Command):
        return msg.prefix not in _PRINTER_COMMANDS and msg.prefix[:2] != b"\x10\x14"
    if isinstance(msg, Block):  # the unmodelled ones are recorded by the printer
        return (
            (bool(msg.payload) and msg.payload[0] == 49)
            if msg.prefix == b"\x1d(k"
            else (msg.prefix in (b"\x1d(L", b"\x1d8L"))
        )
    return False  # Control (FF, CAN, BEL) and Unknown go the message-by-message way
