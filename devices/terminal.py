"""A simulated kiosk terminal assembled from a profile: its devices, the catalog faults each one
implements, the ways faults arrive on their own (a timeline and the catalog's MTBF), and the
ports that put the devices on the wire."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Generator
from typing import Any

import simpy

from devices.base import Device, ServedDevice, Session, StreamDevice
from devices.profiles import Profile, ScheduledFault
from devices.profiles import where as where_in
from devices.registry import KINDS
from devices.transports import Port, PtyPort, TcpPort
from devices.transports.wire import Toxic, Wire
from devices.usage import KioskApp
from devices.usage_counters import CountersApp
from workbench.clock import HOUR
from workbench.errors import CatalogError, ConfigError, DeviceError
from workbench.faults import FaultCatalog, FaultMode

log = logging.getLogger(__name__)

TerminalSink = Callable[[str, str, float, str, dict[str, Any]], None]
"""Receives ``(terminal, device, sim_time, kind, detail)`` for every device event."""


class Terminal:
    """One kiosk: devices built from a profile, sharing one SimPy environment."""

    def __init__(
        self,
        env: simpy.Environment,
        terminal_id: str,
        profile: Profile,
        catalog: FaultCatalog,
        *,
        seed: int = 0,
        sink: TerminalSink | None = None,
    ) -> None:
        self.env = env
        self.id = terminal_id
        self.profile = profile
        self.catalog = catalog
        self.rng = random.Random(f"{seed}:{terminal_id}")
        self._sink = sink
        self.devices: dict[str, Device] = {}
        self.owner: dict[str, Device] = {}
        """Fault id -> the device that implements it (``cash_box.*`` -> the bill validator)."""
        self.ports: dict[str, list[Port]] = {}
        self.wires: dict[str, Wire] = {}
        """Each device's wire-fault layer, shared by all its ports (serial, raw TCP, Modbus TCP,
        HTTP, echo)."""
        self.session_hook: Callable[[str, Callable[[], Session]], Callable[[], Session]] | None = (
            None
        )
        """Wraps each stream device's session factory (a wire-transcript recorder)."""
        self.port_hook: Callable[[str, Port], None] | None = None
        """Told each served device's port before it starts (a wire-transcript recorder taps the
        Modbus and HTTP ones)."""
        self.app: KioskApp | None = None
        """The kiosk application and its customers, once started (profiles with ``usage``)."""
        # The devices tell the terminal their events only when someone listens (a records store,
        # a scenario's observer) or a fault clears itself: a customer makes about 15 of them.
        listening = sink is not None or bool(profile.faults.self_clearing)
        device_sink = self._on_event if listening else None
        for name, entry in profile.devices.items():
            k = KINDS[name]
            modes = [m for d in k.catalog_devices for m in catalog.for_device(d)]
            device: Device = k.device_class(
                env, entry, modes, rng=random.Random(self.rng.random()), sink=device_sink
            )
            self.devices[name] = device
            self.wires[name] = Wire(random.Random(self.rng.random()))
            for mode in modes:
                self.owner[mode.id] = device
        for fault_id in profile.faults.self_clearing:
            if fault_id not in self.owner:
                raise ConfigError(
                    f"{where_in(profile, 'faults', 'self_clearing', fault_id, shown=2)}: {fault_id!r} is "
                    f"not a fault of this profile's devices ({', '.join(self.devices)})"
                )
        for n, item in enumerate(profile.faults.schedule):
            where = where_in(profile, "faults", "schedule", n)
            if item.inject is not None and item.inject not in self.owner:
                raise ConfigError(
                    f"{where}: scheduled fault {item.inject!r} is not a fault of this profile's "
                    f"devices ({', '.join(self.devices)})"
                )
            if item.toxic is not None:
                if item.toxic.device not in self.wires:
                    raise ConfigError(f"{where}: no device {item.toxic.device!r} to put a toxic on")
                try:  # the same checks as a toxic added live, at load time
                    self._check_wired(item.toxic.device)
                    Wire().add(item.toxic.type, attributes=item.toxic.attributes)
                except (ConfigError, DeviceError) as exc:
                    raise ConfigError(f"{where}: {exc}") from None

    def _on_event(self, device: str, sim_time: float, kind: str, detail: dict[str, Any]) -> None:
        if kind == "fault" and str(detail.get("id")) in self.profile.faults.self_clearing:
            fault_id = str(detail["id"])
            after = self.profile.faults.self_clearing[fault_id]
            self.env.process(self._self_clear(fault_id, sim_time, after))
        if self._sink is not None:
            self._sink(self.id, device, sim_time, kind, detail)

    # -- faults ----------------------------------------------------------------------------
    def faults(self) -> list[dict[str, Any]]:
        """Every fault this terminal can show, with whether it is active and since when."""
        out = []
        for fault_id, device in self.owner.items():
            mode = self.catalog[fault_id]
            since = device.active.get(fault_id)
            out.append(
                {
                    "id": fault_id,
                    "device": device.name,
                    "severity": str(mode.severity),
                    "title": mode.title,
                    "active": since is not None,
                    "since": since,
                }
            )
        return out

    def _device_for(self, fault_id: str) -> Device:
        mode = self.catalog[fault_id]  # unknown ids raise CatalogError listing nothing more
        device = self.owner.get(mode.id)
        if device is None:
            raise CatalogError(
                f"terminal {self.id} ({self.profile.name}) has no {mode.device}, so cannot show {fault_id!r}"
            )
        return device

    def inject(self, fault_id: str) -> None:
        """Raise a catalog fault now."""
        self._device_for(fault_id).inject(fault_id)

    def clear(self, fault_id: str) -> None:
        """Clear a fault now (whichever way it arrived)."""
        self._device_for(fault_id).clear(fault_id)

    def active_faults(self) -> list[str]:
        """Ids of the faults active now."""
        return [f for f, d in self.owner.items() if d.has(f)]

    # -- wire faults -------------------------------------------------------------------------
    def _wire(self, device: str) -> Wire:
        if device not in self.wires:
            raise DeviceError(
                f"terminal {self.id} has no device {device!r}; it has {', '.join(self.devices)}"
            )
        return self.wires[device]

    def _check_wired(self, device: str) -> None:
        """Refuse a wire fault that no client could see: the device serves no port."""
        if not self.profile.devices[device].transports:
            raise DeviceError(
                f"{device} of terminal {self.id} serves no port (profile {self.profile.name}: "
                "transports: []), so a wire fault on it would change nothing"
            )

    def add_toxic(self, device: str, type: str, **options: Any) -> Toxic:
        """Add a wire fault (a toxiproxy-style toxic) between a device and every port it serves."""
        wire = self._wire(device)
        self._check_wired(device)
        toxic = wire.add(type, **options)
        self.devices[device].record("toxic", name=toxic.name, type=type)
        return toxic

    def remove_toxic(self, device: str, name: str | None = None) -> None:
        """Remove one toxic of a device, or all of them when no name is given."""
        wire = self._wire(device)
        if name is None:
            wire.clear()
        else:
            wire.remove(name)
        self.devices[device].record("toxic_removed", name=name or "*")

    def toxics(self) -> dict[str, list[dict[str, Any]]]:
        """Active toxics by device."""
        return {
            d: [t.as_dict() for t in w.toxics.values()] for d, w in self.wires.items() if w.toxics
        }

    # -- stimuli ---------------------------------------------------------------------------
    def act(self, action: str, *args: str, device: str | None = None) -> str:
        """Run a customer stimulus on the one device that knows the action (or the named one)."""
        if device is not None:
            if device not in self.devices:
                raise DeviceError(
                    f"terminal {self.id} has no device {device!r}; it has {', '.join(self.devices)}"
                )
            return self.devices[device].act(action, *args)
        owners = [d for d in self.devices.values() if action in d.actions]
        if len(owners) == 1:
            return owners[0].act(action, *args)
        if not owners:
            valid = sorted({a for d in self.devices.values() for a in d.actions})
            raise DeviceError(
                f"no device of terminal {self.id} has action {action!r}; actions: {', '.join(valid)}"
            )
        names = ", ".join(d.name for d in owners)
        raise DeviceError(f"action {action!r} is ambiguous ({names}); name the device")

    def status(self) -> dict[str, Any]:
        """Every device's snapshot."""
        return {
            "terminal": self.id,
            "profile": self.profile.name,
            "sim_time": self.env.now,
            "devices": {n: d.status() for n, d in self.devices.items()},
        }

    # -- time ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start device processes and the ways faults arrive on their own."""
        for device in self.devices.values():
            device.start()
        for item in self.profile.faults.schedule:
            self.env.process(self._scheduled(item))
        if self.profile.faults.mtbf:
            self.env.process(self._mtbf(self.profile.faults.mtbf_scale))
        usage = self.profile.usage
        if usage is not None and usage.enabled:
            rng = random.Random(self.rng.random())
            app = CountersApp if usage.mode == "counters" else KioskApp
            self.app = app(self.env, self.devices, usage, rng=rng, name=f"{self.id}/app")
            self.app.start()

    def _self_clear(
        self, fault_id: str, since: float, after: float
    ) -> Generator[simpy.Event, Any, None]:
        """A fault the profile marks self-clearing goes away on its own (this episode only)."""
        yield self.env.timeout(after)
        if self.owner[fault_id].active.get(fault_id) == since:
            self.clear(fault_id)

    def _scheduled(self, item: ScheduledFault) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(max(0.0, item.at - self.env.now))
        if item.inject is not None:
            self.inject(item.inject)
        elif item.toxic is not None:
            t = item.toxic
            name = self.add_toxic(
                t.device, t.type, stream=t.stream, toxicity=t.toxicity, attributes=t.attributes
            ).name
        if item.clear_after is not None:
            yield self.env.timeout(item.clear_after)
            if item.inject is not None:
                self.clear(item.inject)
            elif item.toxic is not None and name in self.wires[item.toxic.device].toxics:
                self.remove_toxic(item.toxic.device, name)

    def _mtbf(self, scale: float) -> Generator[simpy.Event, Any, None]:
        """One pooled source of random failures: exponential gaps at the sum of the catalog rates."""
        modes: list[FaultMode] = [self.catalog[f] for f in self.owner if self.catalog[f].mtbf_hours]
        weights = [m.rate_per_hour * scale for m in modes]
        total = sum(weights)
        if total <= 0:
            return
        while True:
            yield self.env.timeout(self.rng.expovariate(total) * HOUR)
            mode = self.rng.choices(modes, weights)[0]
            self.owner[mode.id].inject(mode.id)

    # -- ports -----------------------------------------------------------------------------
    async def open_ports(self, host: str = "127.0.0.1") -> dict[str, dict[str, str]]:
        """Put every device on its profile's transports; returns the endpoints by device."""
        endpoints: dict[str, dict[str, str]] = {}
        for name, device in self.devices.items():
            ports: list[Port] = []
            for kind in self.profile.devices[name].transports:
                port = self._port(name, device, kind, host)
                port.wire = self.wires[name]  # every port a device serves carries its wire faults
                await port.start()
                ports.append(port)
            self.ports[name] = ports
            endpoints[name] = {p.kind: p.endpoint for p in ports}
        return endpoints

    def _port(self, name: str, device: Device, kind: str, host: str) -> Port:
        """The port of one transport kind (not started): a pty or TCP port serving a stream
        device's sessions, brought up to the clock by the port, or a served device's own port."""
        label = f"{self.id}/{name}"
        if isinstance(device, StreamDevice):
            sessions = device.new_session
            if self.session_hook is not None:
                sessions = self.session_hook(name, sessions)
            if kind == "serial":
                return PtyPort(sessions, name=label, clock=device)
            if kind == "tcp":
                return TcpPort(sessions, host=host, name=label, clock=device)
            raise DeviceError(f"{label}: a stream device has no {kind!r} port (serial or tcp)")
        if isinstance(device, ServedDevice):
            port = device.open_port(kind, host)
            if self.port_hook is not None:
                self.port_hook(name, port)
            return port
        raise DeviceError(
            f"{label}: {type(device).__name__} is neither a stream nor a served device"
        )

    async def close_ports(self) -> None:
        """Close every port this terminal opened."""
        for ports in self.ports.values():
            for port in ports:
                await port.close()
        self.ports.clear()
