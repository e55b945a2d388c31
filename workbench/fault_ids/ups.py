"""The UPS's fault ids (``ups.*``): raised by ``devices/ups.py``, reported by
``remote/diagnostics/power.py``."""

from __future__ import annotations

MAINS_LOSS = "ups.mains_loss"
BROWNOUT = "ups.brownout"
BATTERY_DEGRADED = "ups.battery_degraded"
BATTERY_LOW = "ups.battery_low"
OVERLOAD = "ups.overload"
COMMS_LOST = "ups.comms_lost"
