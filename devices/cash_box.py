"""The bill validator's cash box: a ``simpy.Container`` of notes that fills as notes are
stacked, raises ``cash_box.near_full`` and ``cash_box.full`` by wear as it crosses its levels,
and is emptied by cash-in-transit staff (who reset the stacked counter with it)."""

from __future__ import annotations

import math

import simpy

from devices.base import Device
from devices.bill_validator_state import (
    BOX_FULL,
    BOX_NEAR_FULL,
    BillValidatorSettings,
    ValidatorState,
)


class CashBox:
    """The notes stacked so far, against the box's capacity; faults go through ``device``. A box
    that starts with notes in it (``cash_box_notes``) is checked once the device is whole."""

    def __init__(self, device: Device[BillValidatorSettings], state: ValidatorState) -> None:
        self.device = device
        self.state = state
        settings = device.settings
        self.notes = simpy.Container(
            device.env, capacity=settings.cash_box_capacity, init=settings.cash_box_notes
        )
        cap = settings.cash_box_capacity
        self._near_full = min(cap, math.floor(settings.near_full_ratio * cap) + 1)
        """:meth:`near_full_level` (the settings are immutable)."""

    @property
    def level(self) -> float:
        """Notes in the box now."""
        return self.notes.level

    @property
    def capacity(self) -> float:
        """Notes the box holds when full."""
        return self.notes.capacity

    def put(self) -> simpy.resources.container.ContainerPut | None:
        """One note into the box: at once when there is room (None), else the event that waits
        for room (a full box no fault stopped). Whoever stacks it counts it (``state.stacked``)
        and then checks the fill levels."""
        box = self.notes
        if box.put_queue or box.get_queue or box._level + 1 > box.capacity:
            return box.put(1)
        box._level += 1  # what the put event would do, with no event to step through
        return None

    def stack(self, notes: int) -> None:
        """Notes stacked without SSP (``usage.mode: counters``): with room for them and no
        process waiting on the box, they go in at once, as the put event would put them, with
        no event left to step through; else as a put."""
        box = self.notes
        if box.put_queue or box.get_queue or box._level + notes > box.capacity:
            box.put(notes)
        else:
            box._level += notes

    def near_full_level(self) -> int:
        """The first level above ``near_full_ratio`` of the capacity."""
        return self._near_full

    def check_fill(self) -> None:
        """Raise ``near_full`` and ``full`` by wear once the level has reached them (looked at
        after every note stacked)."""
        level = self.notes._level
        if level >= self._near_full:
            self.device.worn(BOX_NEAR_FULL)
            if level >= self.device.settings.cash_box_capacity:
                self.device.worn(BOX_FULL)

    def fill_to(self, level: int) -> None:
        """Fill the box up to ``level`` (an injected fill fault)."""
        if self.notes.level < level:
            # The notes that filled it were stacked: GET COUNTERS shows them.
            self.state.stacked += level - int(self.notes.level)
            self.notes.put(level - self.notes.level)

    def empty(self) -> None:
        """Take every note out and clear the fill faults."""
        if self.notes.level:
            self.device.record("cash_box_emptied", notes=self.notes.level)
            self.notes.get(self.notes.level)
        self.state.stacked = 0  # the collection procedure sends RESET COUNTERS with each emptying
        self.device.clear(BOX_FULL)
        self.device.clear(BOX_NEAR_FULL)
