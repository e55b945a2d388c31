"""The shipped fault catalog (``devices/catalog.yaml``), loaded and validated once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from workbench.faults import FaultCatalog

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")


@cache
def default_catalog() -> FaultCatalog:
    """The catalog every simulator, diagnostic and plan in this installation agrees on."""
    return FaultCatalog.load(CATALOG_PATH)
