"""The receipt the virtual kiosk application prints: a bill-payment receipt as python-escpos emits
it, so the printer sees what real kiosk software sends."""

from __future__ import annotations

import contextlib
import io
import logging
from functools import cache


@cache
def receipt_bytes(method: str, lines: int) -> bytes:
    """A bill-payment receipt as python-escpos emits it (built once per method and length)."""
    logging.getLogger("escpos").setLevel(logging.ERROR)
    from escpos.printer import Dummy

    d = Dummy()
    d.set(align="center", bold=True, double_height=True)
    d.text("CITY SERVICE HALL\n")
    d.set(align="center", bold=False, normal_textsize=True)
    d.text("Terminal payment receipt\n\n")
    d.set(align="left")
    total = 0
    for i in range(lines):
        cents = 125 + 375 * i
        total += cents
        d.text(f"{'Service ' + str(i + 1):<30}{cents // 100:>9}.{cents % 100:02d}\n")
    d.set(bold=True)
    d.text(f"{'TOTAL':<30}{total // 100:>9}.{total % 100:02d}\n")
    d.set(bold=False)
    d.text({"card": "Paid by card ****0119\n", "cash": "Paid in cash\n"}.get(method, "Query\n"))
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos print()s its renderer
        d.barcode("4006381333931", "EAN13")
    d.text("Thank you\n")
    d.cut()
    return bytes(d.output)
