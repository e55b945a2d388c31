"""Pure protocol codecs: bytes in, messages out and back; no I/O, no clock."""
