"""The Textual TUI for the remote engineer and the trainer."""
