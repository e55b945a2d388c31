"""The workbench's one exception tree; the CLI turns each into a one-line message and an exit code.

::

    WorkbenchError                  exit 1, anything the user can fix
    ├── ConfigError                 exit 2, a bad YAML file, profile, scenario or flag
    ├── CatalogError                exit 2, an unknown or malformed fault id
    ├── ProtocolError               exit 3, a malformed frame on a wire (codecs raise this)
    ├── DeviceError                 exit 3, a device refused or cannot do what was asked
    ├── TransportError              exit 4, a port, socket or endpoint cannot be reached
    ├── StoreError                  exit 5, the records store is unreadable or too new
    └── RemoteError                 exit 6, a certificate, grant, agent or session problem
        └── AuthError               exit 6, refused by the window authority
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose; the message is shown to the user."""

    exit_code = 1


class ConfigError(WorkbenchError):
    """A configuration file, profile, scenario or command-line value is wrong."""

    exit_code = 2


class CatalogError(WorkbenchError):
    """A fault id is unknown or the fault catalog is malformed."""

    exit_code = 2


class ProtocolError(WorkbenchError):
    """Bytes on a wire do not form a valid frame or message (the codecs' only error)."""

    exit_code = 3


class DeviceError(WorkbenchError):
    """A simulated or real device cannot do what was asked."""

    exit_code = 3


class TransportError(WorkbenchError):
    """A serial port, socket or endpoint cannot be opened or reached."""

    exit_code = 4


class StoreError(WorkbenchError):
    """The records store cannot be opened or has a schema this version does not know."""

    exit_code = 5


class RemoteError(WorkbenchError):
    """A remote-service problem: certificates, grants, the agent or a session."""

    exit_code = 6


class AuthError(RemoteError):
    """The window authority refused: no certificate, wrong CA, wrong principal, outside validity."""
