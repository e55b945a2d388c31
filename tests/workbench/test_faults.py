"""The fault catalog: the shipped data validates, and bad catalogs are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.catalog import default_catalog
from workbench.errors import CatalogError, ConfigError
from workbench.faults import FaultCatalog, Severity
from workbench.sla import CHECKLIST


def test_shipped_catalog_covers_every_checklist_item() -> None:
    catalog = default_catalog()
    assert len(catalog) >= 50
    assert len(catalog.devices) >= 9
    checklist = {name for name, _ in CHECKLIST}
    assert {m.diagnostic for m in catalog.values()} == checklist
    for mode in catalog.values():
        assert mode.severity in Severity
        if mode.remote_fixable:
            assert mode.remedy, f"{mode.id} is remote-fixable but names no remedy"


@pytest.mark.parametrize("device", ["printer", "ups"])
def test_every_named_fault_id_is_a_catalog_entry_of_its_device(device: str) -> None:
    """The ids the simulators raise and the diagnostics report (``workbench.fault_ids``)."""
    import importlib

    module = importlib.import_module(f"workbench.fault_ids.{device}")
    named = {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)}
    catalog = default_catalog()
    assert named and named <= set(catalog)
    assert {catalog[i].device for i in named} == {device}


def test_unknown_key_lists_the_valid_ones(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text(
        "faults:\n  - id: printer.paper_out\n    device: printer\n    severity: P3\n    title: t\n"
        "    wire: w\n    diagnostic: print_head\n    remote_fixable: false\n    repair_minutes: 5\n"
        "    mtbf: 100\n"
    )
    with pytest.raises(ConfigError) as info:
        FaultCatalog.load(bad)
    message = str(info.value)
    assert message.startswith(f"{bad}:10: unknown key 'mtbf' in faults.0; valid keys: ")
    assert "mtbf_hours" in message and "repair_minutes" in message


def test_unknown_fault_id_is_a_catalog_error() -> None:
    with pytest.raises(CatalogError) as info:
        default_catalog()["printer.on_fire"]
    assert str(info.value) == "unknown fault 'printer.on_fire'; see 'workbench faults list'"


def test_a_misspelt_fault_id_names_the_one_it_was_meant_to_be() -> None:
    with pytest.raises(CatalogError) as info:
        default_catalog()["printer.paper_ot"]
    assert str(info.value) == (
        "unknown fault 'printer.paper_ot'; see 'workbench faults list'; "
        "did you mean 'printer.paper_out'?"
    )


def test_in_says_whether_the_catalog_has_an_id() -> None:
    # Mapping's 'in' went through __getitem__, whose CatalogError escaped it
    catalog = default_catalog()
    assert "printer.paper_out" in catalog
    assert "printer.paper_outt" not in catalog
    assert 3 not in catalog


def test_get_gives_the_default_for_an_id_the_catalog_lacks() -> None:
    # Mapping's get caught only KeyError: get('printer.reset'), a remedy's name, raised
    catalog = default_catalog()
    assert catalog.get("printer.paper_out") is catalog["printer.paper_out"]
    assert catalog.get("printer.reset") is None
