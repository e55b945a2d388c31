"""ITL's own eSSP host library (the C SDK that the PyPI package eSSP6 builds into ``libessp.so``)
drives the simulated validator over a real pty: it negotiates a key (SYNC, SET GENERATOR, SET
MODULUS, REQUEST KEY EXCHANGE), then sends HOST PROTOCOL VERSION, SETUP REQUEST, SET INHIBITS,
ENABLE and POLL encrypted, and sees a note read, credited and stacked.

The library's C API is called through ctypes, as the package's own wrapper class does; that class
runs a polling thread forever and declares no return types (a 64-bit pointer would be cut to an
int), so the test declares the prototypes itself. Nothing here comes from this project's codec.
"""

from __future__ import annotations

import asyncio
import ctypes
from ctypes import POINTER, Structure, c_char, c_int, c_ubyte, c_uint, c_ulong, c_ulonglong

import eSSP  # the PyPI package eSSP6 (test extra)
import pytest
import simpy

from devices.bill_validator import BillValidator, BillValidatorSettings
from devices.catalog import default_catalog
from devices.transports.pty import PtyPort
from workbench.clock import LiveClock

MODES = default_catalog().for_device("bill_validator") + default_catalog().for_device("cash_box")
OK = 0xF0
FIXED_KEY = 0x0123456701234567


class ChannelData(Structure):
    _fields_ = [("security", c_ubyte), ("value", c_uint), ("cc", c_char * 4)]


class SetupRequest(Structure):
    """SSP6_SETUP_REQUEST_DATA of ssp_helpers.h."""

    _fields_ = [
        ("UnitType", c_ubyte),
        ("FirmwareVersion", c_char * 5),
        ("NumberOfChannels", c_uint),
        ("ChannelData", ChannelData * 20),
        ("RealValueMultiplier", c_ulong),
        ("ProtocolVersion", c_ubyte),
    ]


class PollEvent(Structure):
    _fields_ = [("event", c_ubyte), ("data1", c_ulong), ("data2", c_ulong), ("cc", c_char * 4)]


class PollData(Structure):
    """SSP_POLL_DATA6 of ssp_helpers.h."""

    _fields_ = [("events", PollEvent * 20), ("event_count", c_ubyte)]


def itl_library() -> ctypes.CDLL:
    lib: ctypes.CDLL = eSSP.eSSP.essp
    lib.ssp_init.restype = ctypes.c_void_p
    lib.ssp_init.argtypes = [ctypes.c_char_p, ctypes.c_char_p, c_int]
    for name in ("ssp6_sync", "ssp6_enable", "ssp6_disable"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.ssp6_setup_encryption.argtypes = [ctypes.c_void_p, c_ulonglong]
    lib.ssp6_host_protocol.argtypes = [ctypes.c_void_p, c_ubyte]
    lib.ssp6_setup_request.argtypes = [ctypes.c_void_p, POINTER(SetupRequest)]
    lib.ssp6_set_inhibits.argtypes = [ctypes.c_void_p, c_ubyte, c_ubyte]
    lib.ssp6_poll.argtypes = [ctypes.c_void_p, POINTER(PollData)]
    lib.close_ssp_port.argtypes = []
    return lib


@pytest.mark.timeout(30)
async def test_itl_host_library_negotiates_a_key_and_sees_a_note_credited_encrypted() -> None:
    lib = itl_library()
    env = simpy.Environment()
    settings = BillValidatorSettings(
        require_encryption=True,
        base_reject_rate=0.0,
        wear_reject_per_note=0.0,
        escrow_timeout_s=60.0,
    )
    async with LiveClock(env, speed=10.0) as clock:
        validator = BillValidator(env, settings, MODES)
        validator.attach_clock(clock)
        validator.start()
        port = PtyPort(validator.new_session, name="bill_validator", clock=validator)
        await port.start()
        ssp = await asyncio.to_thread(lib.ssp_init, port.path.encode(), b"0", 0)
        assert ssp, "libessp could not open the pty"
        try:
            assert await asyncio.to_thread(lib.ssp6_sync, ssp) == OK
            # Before any key, a unit that requires encryption refuses ENABLE with KEY NOT SET.
            assert await asyncio.to_thread(lib.ssp6_enable, ssp) == 0xFA
            assert await asyncio.to_thread(lib.ssp6_setup_encryption, ssp, FIXED_KEY) == OK
            assert validator.status()["essp"]["key_set"] is True

            assert await asyncio.to_thread(lib.ssp6_host_protocol, ssp, 6) == OK
            setup = SetupRequest()
            assert await asyncio.to_thread(lib.ssp6_setup_request, ssp, ctypes.byref(setup)) == OK
            assert setup.UnitType == 0 and setup.FirmwareVersion == b"0372"
            assert setup.NumberOfChannels == 7 and setup.ProtocolVersion == 6
            assert await asyncio.to_thread(lib.ssp6_set_inhibits, ssp, 0xFF, 0xFF) == OK
            assert await asyncio.to_thread(lib.ssp6_enable, ssp) == OK
            assert validator.status()["enabled"] is True

            assert validator.act("insert-note", "20") == "20 EUR taken in"
            seen: list[tuple[int, int]] = []
            poll = PollData()
            for _ in range(150):
                assert await asyncio.to_thread(lib.ssp6_poll, ssp, ctypes.byref(poll)) == OK
                seen += [(e.event, e.data1) for e in poll.events[: poll.event_count]]
                if (0xEB, 0) in seen:
                    break
                await clock.sleep(0.2)
            assert (0xEF, 3) in seen  # read, channel 3 (20 EUR) in escrow
            assert (0xEE, 3) in seen  # credit, channel 3
            assert (0xEB, 0) in seen  # stacked
            assert validator.cash_box.level == 1
            # Every command since the negotiation travelled encrypted, one count per exchange.
            assert validator.status()["essp"]["count"] >= 6
        finally:
            await asyncio.to_thread(lib.close_ssp_port)
            await port.close()
