"""Fault scenarios: schema, runner, scoring, the pytest plugin, and a library of YAML scenarios."""
