"""The health documents and the echo-port line protocol: round trips, refusals, and fuzzed bytes
that never raise anything but ProtocolError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import health
from devices.protocols.health import DnsStatus, HostSensors, NetworkHealth
from workbench.errors import ProtocolError

SENSORS = HostSensors(
    source="simulated",
    cpu_temp_c=48.0,
    fan_rpm=2400,
    disk_smart_ok=True,
    disk_reallocated_sectors=0,
    disk_free_pct=60.0,
    memory_errors_corrected=0,
    uptime_s=10.0,
    clock_offset_s=0.0,
)


def test_documents_round_trip_through_json() -> None:
    assert health.parse_sensors(json.dumps(SENSORS.model_dump(mode="json"))) == SENSORS
    net = NetworkHealth(
        interface="eth0",
        link="up",
        dns=DnsStatus(host="h", status="ok", address="1.2.3.4"),
        echo_port=9,
    )
    assert health.parse_network_health(net.model_dump_json()) == net


def test_refusals_name_the_field() -> None:
    doc = SENSORS.model_dump(mode="json") | {"fan_rpm": "fast"}
    with pytest.raises(ProtocolError, match="fan_rpm"):
        health.parse_sensors(json.dumps(doc))
    with pytest.raises(ProtocolError, match="not JSON"):
        health.parse_app_health(b"<html>")
    with pytest.raises(ProtocolError, match="format"):
        health.parse_sensors(json.dumps(SENSORS.model_dump(mode="json") | {"format": "other/2"}))


def test_echo_lines() -> None:
    assert health.ping_line("p1") == b"PING p1\n"
    assert health.parse_command(b"PING p1\n") == ("ping", "p1")
    assert health.parse_command(b"BULK 4096\r\n") == ("bulk", "4096")
    assert health.parse_pong(b"PONG p1\n") == "p1"
    for bad in (b"PING\n", b"PING a b\n", b"BULK 0\n", b"BULK -1\n", b"PING p1", b"PING \xff\n"):
        with pytest.raises(ProtocolError):
            health.parse_command(bad)
    with pytest.raises(ProtocolError):
        health.ping_line("has space")
    with pytest.raises(ProtocolError):
        health.bulk_line(health.MAX_BULK + 1)


@given(st.binary(max_size=300))
def test_fuzzed_bytes_raise_only_protocol_error(data: bytes) -> None:
    for parse in (
        health.parse_sensors,
        health.parse_app_health,
        health.parse_network_health,
        health.parse_command,
        health.parse_pong,
    ):
        try:
            parse(data)
        except ProtocolError:
            pass


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    )
)
def test_fuzzed_json_raises_only_protocol_error(doc: object) -> None:
    try:
        health.parse_sensors(json.dumps(doc))
    except ProtocolError:
        pass
