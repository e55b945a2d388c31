"""Transports that put a device's byte sessions on real ports: pseudo-terminals and TCP."""

from devices.transports.pty import PtyPort
from devices.transports.tcp import TcpPort

__all__ = ["PtyPort", "TcpPort"]
