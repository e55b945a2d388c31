"""Which simulator models each kind of kiosk device, its settings schema, the catalog devices whose
faults it implements, and the transports it can be put on."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class DeviceKind:
    """One entry of the registry; the module is imported only when a profile uses the kind."""

    name: str
    module: str
    cls: str
    settings: str
    transports: tuple[str, ...]
    default_transports: tuple[str, ...]
    fault_devices: tuple[str, ...] = ()

    @cached_property
    def _module(self) -> Any:
        return importlib.import_module(self.module)

    @property
    def device_class(self) -> Any:
        """The simulator class (a :class:`devices.base.Device` subclass)."""
        return getattr(self._module, self.cls)

    @property
    def settings_model(self) -> type[BaseModel]:
        """The pydantic settings schema a profile's entry is checked against."""
        model: type[BaseModel] = getattr(self._module, self.settings)
        return model

    @property
    def catalog_devices(self) -> tuple[str, ...]:
        """Catalog device names whose fault modes this simulator implements."""
        return self.fault_devices or (self.name,)


KINDS: dict[str, DeviceKind] = {
    k.name: k
    for k in (
        DeviceKind(
            "printer",
            "devices.printer",
            "Printer",
            "PrinterSettings",
            ("serial", "tcp"),
            ("serial", "tcp"),
        ),
        DeviceKind(
            "bill_validator",
            "devices.bill_validator",
            "BillValidator",
            "BillValidatorSettings",
            ("serial",),
            ("serial",),
            ("bill_validator", "cash_box"),
        ),
        DeviceKind(
            "card_reader",
            "devices.card_reader",
            "CardReader",
            "CardReaderSettings",
            ("serial",),
            ("serial",),
        ),
        DeviceKind(
            "touchscreen",
            "devices.touchscreen",
            "Touchscreen",
            "TouchscreenSettings",
            ("serial",),
            ("serial",),
        ),
        DeviceKind(
            "display", "devices.display", "Display", "DisplaySettings", ("serial",), ("serial",)
        ),
        DeviceKind("ups", "devices.ups", "Ups", "UpsSettings", ("modbus",), ("modbus",)),
        DeviceKind(
            "exterior", "devices.exterior", "Exterior", "ExteriorSettings", ("modbus",), ("modbus",)
        ),
        DeviceKind(
            "network",
            "devices.network",
            "Network",
            "NetworkSettings",
            ("tcp", "http"),
            ("tcp", "http"),
        ),
        DeviceKind("host_pc", "devices.host_pc", "HostPc", "HostPcSettings", ("http",), ("http",)),
        DeviceKind(
            "system_software",
            "devices.system_software",
            "SystemSoftware",
            "SystemSoftwareSettings",
            ("http",),
            ("http",),
        ),
    )
}


def kind(name: str) -> DeviceKind:
    """The registry entry for a device name (KeyError when unknown; profiles check first)."""
    return KINDS[name]
