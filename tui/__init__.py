"""The remote engineer's and trainer's Textual TUI (``workbench tui``): fleet, terminal, window,
reports and trainer screens over a backend interface (:mod:`tui.backend`)."""
