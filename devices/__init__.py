"""Simulated kiosk peripherals: state models, protocol codecs, transports, profiles and the fault catalog."""
