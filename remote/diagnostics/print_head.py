"""Checklist item "print head": placeholder until the printer lands."""

from __future__ import annotations

from remote.diagnostics.base import CHECKLIST_TEXT, Context, Diagnostic, Report


class PrintHeadCheck(Diagnostic):
    """Receipt printer."""

    name = "print_head"
    checklist = CHECKLIST_TEXT["print_head"]
    device = "printer"

    async def check(self, ctx: Context, report: Report) -> None:
        report.note("not yet")
