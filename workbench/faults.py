"""Fault modes as frozen data, and the catalog that holds them: the workbench's single source of truth.

A fault mode names its device, severity (P1/P2/P3 per the service plan), how it shows on
the wire, which diagnostic detects it, whether it can be fixed remotely, its MTBF and its
repair time. Simulators implement every mode, diagnostics detect them, scenarios inject
them and the capacity model draws failures from their rates.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import field_validator

from workbench.config import Strict, load_yaml
from workbench.errors import CatalogError


class Severity(StrEnum):
    """Service-plan severity: P1 system down, P2 severe fault, P3 single service abnormal."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class FaultMode:
    """One way a device fails, as the field sees it."""

    id: str
    device: str
    severity: Severity
    title: str
    wire: str
    diagnostic: str
    remote_fixable: bool
    mtbf_hours: float | None
    repair_minutes: float
    remedy: str | None = None
    part: str | None = None
    wear: bool = False

    @property
    def rate_per_hour(self) -> float:
        """Arrival rate drawn from the MTBF (0 for faults that only come by wear or injection)."""
        return 1.0 / self.mtbf_hours if self.mtbf_hours else 0.0


class _FaultEntry(Strict):
    id: str
    device: str
    severity: Severity
    title: str
    wire: str
    diagnostic: str
    remote_fixable: bool
    mtbf_hours: float | None = None
    repair_minutes: float
    remedy: str | None = None
    part: str | None = None
    wear: bool = False

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"fault id {v!r} must look like 'device.mode' (lower case)")
        return v

    @field_validator("mtbf_hours", "repair_minutes")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError(f"must be > 0, got {v}")
        return v


class _CatalogFile(Strict):
    faults: list[_FaultEntry]


class FaultCatalog(Mapping[str, FaultMode]):
    """An immutable, id-keyed collection of fault modes with per-device views."""

    def __init__(self, modes: list[FaultMode]) -> None:
        self._modes: dict[str, FaultMode] = {}
        for mode in modes:
            if mode.id in self._modes:
                raise CatalogError(f"fault id {mode.id!r} appears twice in the catalog")
            if not mode.id.startswith(mode.device + "."):
                raise CatalogError(
                    f"fault id {mode.id!r} must start with its device {mode.device!r}"
                )
            self._modes[mode.id] = mode

    def __getitem__(self, fault_id: str) -> FaultMode:
        try:
            return self._modes[fault_id]
        except KeyError:
            raise CatalogError(self.unknown(fault_id)) from None

    def unknown(self, fault_id: str) -> str:
        """What to say of an id the catalog lacks, with the id it was most likely meant to be
        (a close match only: ``printer.paper_ot``, not ``printer.on_fire``)."""
        close = difflib.get_close_matches(str(fault_id), self._modes, n=1, cutoff=0.85)
        guess = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown fault {fault_id!r}; see 'workbench faults list'{guess}"

    def __contains__(self, fault_id: object) -> bool:
        # Mapping's own asks __getitem__, whose CatalogError is no KeyError: 'x in catalog'
        # raised for an unknown id instead of saying False
        return fault_id in self._modes

    def get(self, fault_id: str, default: FaultMode | None = None) -> FaultMode | None:  # type: ignore[override]
        """The mode of ``fault_id``, or ``default`` for an id the catalog lacks (Mapping's own
        catches only KeyError)."""
        return self._modes.get(fault_id, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modes)

    def __len__(self) -> int:
        return len(self._modes)

    def for_device(self, device: str) -> list[FaultMode]:
        """The modes of one device, in catalog order."""
        return [m for m in self._modes.values() if m.device == device]

    @property
    def devices(self) -> list[str]:
        """Every device that has at least one fault mode, in catalog order."""
        return list(dict.fromkeys(m.device for m in self._modes.values()))

    @classmethod
    def load(cls, path: str | Path) -> FaultCatalog:
        """Load and validate a catalog file; unknown keys are refused with the valid ones listed."""
        data = load_yaml(path, _CatalogFile)
        return cls([FaultMode(**entry.model_dump()) for entry in data.faults])
