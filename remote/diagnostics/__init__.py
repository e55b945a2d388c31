"""The eleven checklist diagnostics, their suites and runner (see :mod:`remote.diagnostics.registry`)."""

from __future__ import annotations

from remote.diagnostics.base import Context, Diagnostic, Report, Result, Stimulus, catalog
from remote.diagnostics.registry import Runner, describe, diagnostics, plan, run, suites

__all__ = [
    "Context",
    "Diagnostic",
    "Report",
    "Result",
    "Runner",
    "Stimulus",
    "catalog",
    "describe",
    "diagnostics",
    "plan",
    "run",
    "suites",
]
