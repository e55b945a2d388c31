"""How the agent's audit log names a connection that never authenticated: an attempt with a method
it never accepts (asyncssh refuses those without calling any hook), and a connection that closed
before any auth request (a reachability check, something that is not SSH, or an SSH client that
gave up)."""

from __future__ import annotations

import asyncssh

REFUSED_METHODS = {
    b"password": "password attempt: passwords are never accepted",
    b"keyboard-interactive": "keyboard-interactive attempt: not accepted",
    b"hostbased": "host-based attempt: not accepted",
    b"gssapi-with-mic": "GSSAPI attempt: not accepted",
    b"gssapi-keyex": "GSSAPI attempt: not accepted",
}
"""Auth methods the agent never accepts, and the reason its audit log gives for each attempt."""


def early_close(client_version: str | None, exc: Exception | None) -> tuple[str, str]:
    """The audit event and reason for a connection that closed before any auth request.

    No identification string from the client and a plain close, reset or login time-out: a
    reachability check (``port_check``; sshd logs it as "Did not receive identification
    string"). Anything else is a ``connection_dropped``: not SSH, or an SSH client that gave up."""
    if client_version is None:
        if exc is None or isinstance(exc, (asyncssh.ConnectionLost, ConnectionError)):
            timed_out = isinstance(exc, asyncssh.ConnectionLost) and str(exc) != "Connection lost"
            why = f" ({exc})" if timed_out else ""  # a reset is just how a check hangs up
            return "port_check", f"closed before the SSH version exchange{why}"
        return "connection_dropped", f"not an SSH client: {exc}"
    return "connection_dropped", f"closed before authentication: {exc or 'by the client'}"
