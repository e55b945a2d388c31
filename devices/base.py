"""What every simulated peripheral shares: a SimPy environment, a fault set applied and cleared
through one API, customer stimuli, and an exact ``(time, event)`` log (:mod:`devices.event_log`);
and the contract between a device and the transports that put it on the wire.

The contract has two shapes, declared here and nowhere else:

- a :class:`StreamDevice` answers a byte session (:class:`Session`): the terminal puts it on a
  pseudo-terminal or a raw TCP port, which opens one session per host connection;
- a :class:`ServedDevice` exposes request/response ports of its own (Modbus TCP, HTTP, an echo
  port) through :meth:`ServedDevice.open_port`.

A device model never reads the wall clock and never touches a port: time comes from its
environment, bytes come through the sessions a transport opens on it. The transports bring the
model up to the clock around every session's bytes (:meth:`Device.catch_up`, :meth:`Device.wake`).

Time follows the two-clock rule of :mod:`workbench.clock`: physics (wear, consumables, faults)
runs on ``env.now``; whatever the host's behaviour drives (an escrow time-out, a reply deadline)
is measured with :meth:`Device.host_span`, which is the wall clock in live time at any speed and
the simulated clock in virtual time.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import simpy
from pydantic import BaseModel

# the action declarations, re-exported: the device models import them from here
from devices.actions import FACE_VALUE as FACE_VALUE
from devices.actions import KNOWN_NOTE as KNOWN_NOTE
from devices.actions import UNKNOWN_NOTE as UNKNOWN_NOTE
from devices.actions import WHOLE_NUMBER as WHOLE_NUMBER
from devices.actions import ActionSpec
from devices.actions import Arg as Arg
from devices.actions import action as action
from devices.event_log import EventLog
from devices.event_log import EventSink as EventSink
from devices.event_log import Kind as Kind
from workbench.clock import VIRTUAL, Timebase
from workbench.errors import CatalogError, DeviceError
from workbench.faults import FaultMode

if TYPE_CHECKING:
    from devices.transports import Port

S = TypeVar("S", bound=BaseModel)
"""A device's settings: the pydantic model its profile entry is checked against."""

Writer = Callable[[bytes], None]
"""Sends bytes to the host on a session's connection."""


class ByteSession(Protocol):
    """One host connection to a stream device (a pty's lifetime, or one TCP connection)."""

    def feed(self, data: bytes) -> bytes:
        """Take bytes the host sent; return the bytes the device answers right away."""
        ...


class Session(ABC):
    """Base of the devices' byte sessions. A transport attaches a writer, through which a device
    that speaks unprompted (touch packets, automatic status back) reaches the host; a session
    that only answers never uses it."""

    _write: Writer | None = None

    def attach(self, write: Writer) -> None:
        """Give the session a way to send bytes to the host on its own (the pty does)."""
        self._write = write

    @abstractmethod
    def feed(self, data: bytes) -> bytes:
        """Take bytes the host sent; return the bytes the device answers right away."""


class Device(EventLog, Generic[S]):
    """Base of the simulated peripherals (a device is a :class:`StreamDevice` or a
    :class:`ServedDevice`).

    Subclasses declare which catalog faults they implement (``modes``) and react to them in
    :meth:`_apply`; customer stimuli are methods registered in ``actions``.
    """

    kind: str = "device"
    SPECS: ClassVar[dict[str, ActionSpec]] = {}
    """The actions declared with :func:`action` (inherited ones too), by name."""
    ACTIONS: ClassVar[dict[str, str]] = {}
    """Action name -> method name."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = dict(cls.SPECS)
        for attr, value in vars(cls).items():
            if (spec := ActionSpec.declared(attr, value)) is not None:
                specs[spec.name] = spec
        for spec in specs.values():
            if spec.waits_on is not None and not callable(getattr(cls, spec.waits_on, None)):
                raise TypeError(
                    f"{cls.__qualname__} action {spec.name!r} waits on {spec.waits_on!r}: "
                    "no such method"
                )
        cls.SPECS = specs
        cls.ACTIONS = {name: spec.attr for name, spec in specs.items()}

    @classmethod
    def describe_actions(cls) -> list[ActionSpec]:
        """The declared actions of this device class, by name."""
        return [cls.SPECS[name] for name in sorted(cls.SPECS)]

    def __init__(
        self,
        env: simpy.Environment,
        settings: S,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        """Every device is built alike: its environment, its profile settings (a pydantic model
        that refuses unknown keys), the catalog faults it implements, and optionally a name, a
        random source and a sink for its events. Subclasses keep this signature."""
        self.env = env
        self.settings = settings
        self.name = name or self.kind
        self.rng = rng or random.Random(0)
        self.sink = sink
        self.modes: dict[str, FaultMode] = {m.id: m for m in modes}
        self.active: dict[str, float] = {}
        """Active fault ids and the simulated time each was raised."""
        self._start_log()
        self.actions: dict[str, Callable[..., str]] = {
            name: getattr(self, attr) for name, attr in self.ACTIONS.items()
        }
        """The declared actions (:func:`action`), bound to this device."""
        self.clock: Timebase = VIRTUAL
        """Virtual time until :meth:`attach_clock` gives the device a live clock."""
        self.by_wear = False
        """True while :meth:`worn` applies a fault (so :meth:`_apply` can tell wear from an
        injection, whose state wear did not already set)."""
        self._timers: dict[str, int] = {}
        self._replan: simpy.Event | None = None

    # -- time ----------------------------------------------------------------------------
    def attach_clock(self, clock: Timebase | None) -> None:
        """In live time, let the device catch the environment up to the wall clock before it
        reacts to the outside world (a packet, a stimulus, a fault) and wake the clock after,
        so the SimPy events that reaction scheduled run on time; and measure host-facing
        time-outs on the wall clock. ``None`` goes back to virtual time."""
        self.clock = VIRTUAL if clock is None else clock

    def host_span(self, host_seconds: float) -> float:
        """Simulated seconds that span ``host_seconds`` of the host's clock: the length of every
        time-out a host's behaviour drives (wall time in live time at any speed; the same number
        in virtual time)."""
        return self.clock.host_span(host_seconds)

    def catch_up(self) -> None:
        """Advance the environment to the live clock's 'now' (no-op in virtual time)."""
        self.clock.catch_up()

    def wake(self) -> None:
        """Tell the live clock that events were scheduled (no-op in virtual time)."""
        self.clock.wake()

    # -- faults --------------------------------------------------------------------------
    def has(self, fault_id: str) -> bool:
        """Whether the fault is active now."""
        return fault_id in self.active

    def inject(self, fault_id: str) -> None:
        """Raise a catalog fault on this device (no-op when already active)."""
        if fault_id not in self.modes:
            valid = ", ".join(self.modes) or "none"
            raise CatalogError(f"{self.name} has no fault {fault_id!r}; its faults: {valid}")
        if fault_id in self.active:
            return
        self.catch_up()
        self.active[fault_id] = self.env.now
        self.record("fault", id=fault_id)
        self._apply(fault_id, True)
        self.wake()

    def clear(self, fault_id: str) -> None:
        """Clear an active fault (no-op when not active)."""
        if fault_id not in self.modes:
            raise CatalogError(f"{self.name} has no fault {fault_id!r}")
        if fault_id not in self.active:
            return
        self.catch_up()
        del self.active[fault_id]
        self.record("clear", id=fault_id)
        self._apply(fault_id, False)
        self.wake()

    def _apply(self, fault_id: str, active: bool) -> None:
        """React to a fault being raised or cleared (state that wear did not already set)."""

    # -- wear and watchers -------------------------------------------------------------------
    def worn(self, fault_id: str, on: bool = True) -> None:
        """Wear or use crossed a threshold: raise ``fault_id`` (or clear it, ``on`` False) when
        this device implements it and it is not so already; :attr:`by_wear` is True meanwhile."""
        if fault_id not in self.modes or self.has(fault_id) == on:
            return
        outer, self.by_wear = self.by_wear, True
        try:
            self.inject(fault_id) if on else self.clear(fault_id)
        finally:
            self.by_wear = outer

    def arm(self, name: str, delay: float | None, then: Callable[[], None]) -> None:
        """(Re)arm the device's timer ``name``: ``then`` runs ``delay`` simulated seconds from
        now, unless the timer is armed again or disarmed (``delay`` None) before. A watcher for a
        wear threshold or a cool-down is re-armed whenever the state it predicts from changes."""
        armed = self._timers.get(name, 0) + 1
        self._timers[name] = armed
        if delay is not None:
            self.env.process(self._timer(name, armed, max(0.0, delay), then))

    def _timer(
        self, name: str, armed: int, delay: float, then: Callable[[], None]
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay)
        if self._timers.get(name) == armed:
            then()

    def follow(self, react: Callable[[], None], next_crossing: Callable[[], float]) -> None:
        """Start the process of a model with continuous state (a battery's charge, a CPU's
        temperature): ``react`` to what the state has crossed, then sleep until the next
        crossing it predicts (``next_crossing``: seconds, inf for none) or until :meth:`replan`."""
        self.env.process(self._follow(react, next_crossing))

    def replan(self) -> None:
        """The state changed outside the model's process (a fault, a write, a stimulus): react
        and predict again now."""
        if self._replan is not None and not self._replan.triggered:
            self._replan.succeed()

    def _follow(
        self, react: Callable[[], None], next_crossing: Callable[[], float]
    ) -> Generator[simpy.Event, Any, None]:
        while True:
            react()
            self._replan = self.env.event()
            yield self.env.timeout(next_crossing()) | self._replan

    # -- stimuli ---------------------------------------------------------------------------
    def act(self, action: str, *args: str) -> str:
        """Run a customer or staff stimulus (``insert-note 20``, ``refill-paper``); returns a message."""
        handler = self.actions.get(action)
        if handler is None:
            valid = ", ".join(sorted(self.actions)) or "none"
            raise DeviceError(f"{self.name} has no action {action!r}; its actions: {valid}")
        clock = self.clock
        live = clock is not VIRTUAL  # nothing to catch up or wake in virtual time (acted all day)
        if live:
            clock.catch_up()
        try:
            return handler(*args)
        except (TypeError, ValueError, DeviceError):
            # Arguments are checked only when the call failed (checking them costs more than a
            # touch): too few or too many never reached the handler, and a value not of its
            # declared form was refused by the handler's first step, which reads it, and one
            # this device's settings do not allow (a touch off its screen) by the handler's
            # own test; each is said as the declaration says it, as a scenario's check says
            # it. Any other error is the handler's own, raised as it is (a TypeError or
            # ValueError from a handler whose arguments fit is a bug).
            if (wrong := self.wrong_arguments(action, args)) is not None:
                raise DeviceError(f"{self.name} {wrong}") from None
            raise
        finally:
            if live:
                clock.wake()

    def why_not(self, action: str) -> str | None:
        """Why this device would not take the declared stimulus ``action`` now, as the action
        would say it (``validator disabled``); None when it would, and always for an action
        that declares no such state (:func:`devices.actions.action`'s ``waits_on``)."""
        waits_on = self.SPECS[action].waits_on
        if waits_on is None:
            return None
        why: str | None = getattr(self, waits_on)()
        return why

    def wrong_arguments(self, action: str, args: Sequence[str]) -> str | None:
        """None when ``args`` fit the declared ``action`` (their number, the form
        :func:`action` declared for each, and what this device's settings allow of it), else
        what is wrong, in the words of a usage line: ``touch takes X Y; given: none``,
        ``insert-note takes VALUE, a face value, a whole number above 0; given: abc``, ``touch
        takes X Y, X a column of the 1920x1080 screen, 0 to 1919; given: 5000 10`` (``kiosk
        act`` and a scenario's ``act`` step say this)."""
        return self.SPECS[action].wrong(args, self.settings)

    def status(self) -> dict[str, Any]:
        """A JSON-able snapshot for the control plane and the trainer's view."""
        return {"faults": sorted(self.active)}

    def start(self) -> None:
        """Start the device's own SimPy processes (wear, warm-up); called once by the terminal."""


class StreamDevice(Device[S], ABC):
    """A device that answers a byte session: the terminal serves it on a pty (``serial``) or a
    raw TCP port (``tcp``), one :class:`Session` per host connection."""

    @abstractmethod
    def new_session(self) -> Session:
        """A session for one host connection (the transports call this)."""


class ServedDevice(Device[S], ABC):
    """A device that serves request/response ports of its own (Modbus TCP, HTTP, an echo
    port): one port per transport kind its profile names."""

    @abstractmethod
    def open_port(self, kind: str, host: str) -> Port:
        """A port of ``kind`` on ``host`` (not started); DeviceError for a kind it lacks."""

    def address_refused(self, what: str, function: int, address: int, count: int) -> None:
        """A client read or wrote registers outside the device's map, or wrote a read-only one
        (its Modbus port answered exception 02, illegal data address; ``what`` says which):
        recorded, so that strict mode reports the client."""
        self.record(
            "protocol_violation", what=what, function=function, address=address, count=count
        )
