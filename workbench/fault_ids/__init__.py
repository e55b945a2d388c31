"""The fault ids that code names, one module a device, each id spelt once.

A simulator raises a fault by its id and the diagnostic that detects it reports the same id;
``remote`` runs without the simulators (diagnostics must work the same against real hardware),
so neither side may hold the other's constants: both import them from here, the kernel. The
catalog (``devices/catalog.yaml``) stays the source of truth for what a fault is; a test checks
that every id named here is one of its entries.
"""
