"""Kiosk workbench kernel: simulated time, the fault catalog types, the records store and service terms."""

__version__ = "0.1.0"
