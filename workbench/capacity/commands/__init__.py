"""The ``workbench capacity`` subcommands, one module per group: one plan, sweeps and plots, sizing."""
