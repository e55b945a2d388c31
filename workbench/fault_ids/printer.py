"""The receipt printer's fault ids (``printer.*``): raised by ``devices/printer.py``, reported by
``remote/diagnostics/print_head.py``."""

from __future__ import annotations

PAPER_OUT = "printer.paper_out"
NEAR_END = "printer.paper_near_end"
COVER_OPEN = "printer.cover_open"
CUTTER_JAM = "printer.cutter_jam"
OVERHEAT = "printer.head_overheat"
HEAD_DIRTY = "printer.head_dirty"
OFFLINE = "printer.offline"
PAPER_JAM = "printer.paper_jam"
