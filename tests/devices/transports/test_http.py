"""The small HTTP/1.1 JSON port: urllib reads it, garbage gets 400, unknown paths 404, a hung route
stays silent, and a port that stops listening refuses connections on the same port."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.transports import Port
from devices.transports.http import HANG, HttpPort, parse_head, render


def boom() -> object:
    raise RuntimeError("sensor bus error")


@pytest.fixture
async def port() -> AsyncIterator[HttpPort]:
    state = {"hung": False}
    routes = {
        "/health": lambda: {"ok": True, "n": 1},
        "/hang": lambda: HANG if state["hung"] else {"ok": True},
        "/boom": boom,
    }
    async with HttpPort(routes) as p:
        state["hung"] = True
        yield p


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


async def raw(p: HttpPort, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(p.host, p.port)
    writer.write(request)
    writer.write_eof()
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    return data


@pytest.mark.timeout(10)
async def test_urllib_gets_json_with_length_and_close(port: HttpPort) -> None:
    status, headers, body = await asyncio.to_thread(fetch, port.url("/health?verbose=1"))
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["Connection"] == "close"
    assert int(headers["Content-Length"]) == len(body)
    assert json.loads(body) == {"ok": True, "n": 1}
    assert port.endpoint == f"127.0.0.1:{port.port}"


@pytest.mark.timeout(10)
async def test_unknown_path_is_404_listing_the_paths(port: HttpPort) -> None:
    status, _, body = await asyncio.to_thread(fetch, port.url("/nope"))
    assert status == 404
    assert json.loads(body)["paths"] == ["/boom", "/hang", "/health"]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "request_bytes",
    [
        b"\x00\xff garbage\r\n\r\n",
        b"GET health HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad\r\n\r\n",
        b"GET /",
    ],
)
async def test_garbage_gets_400(port: HttpPort, request_bytes: bytes) -> None:
    reply = await raw(port, request_bytes)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")


@pytest.mark.timeout(10)
async def test_oversized_head_gets_400(port: HttpPort) -> None:
    reply = await raw(port, b"GET /health HTTP/1.1\r\nX: " + b"a" * 10000 + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 ")


@pytest.mark.timeout(10)
async def test_only_get_is_allowed(port: HttpPort) -> None:
    reply = await raw(port, b"POST /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 405 ") and b"Allow: GET\r\n" in reply


@pytest.mark.timeout(10)
async def test_a_failing_route_is_500(port: HttpPort) -> None:
    status, _, _ = await asyncio.to_thread(fetch, port.url("/boom"))
    assert status == 500


@pytest.mark.timeout(10)
async def test_a_hung_route_never_answers(port: HttpPort) -> None:
    reader, writer = await asyncio.open_connection(port.host, port.port)
    writer.write(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1), 0.3)
    writer.close()


@pytest.mark.timeout(10)
async def test_stop_listening_refuses_then_resumes_on_the_same_port(port: HttpPort) -> None:
    number = port.port
    await port.set_listening(False)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(port.host, number)
    port.request_listening(True)
    await port.set_listening(True)  # idempotent, and waits for nothing else
    status, _, _ = await asyncio.to_thread(fetch, port.url("/health"))
    assert status == 200 and port.port == number


@pytest.mark.timeout(10)
async def test_close_ends_hung_connections() -> None:
    p = HttpPort({"/": lambda: HANG})
    port: Port = p
    await port.start()
    host, number = p.endpoint.split(":")
    reader, writer = await asyncio.open_connection(host, int(number))
    writer.write(b"GET / HTTP/1.1\r\n\r\n")
    await writer.drain()
    while p.open_connections == 0:  # the server has taken the connection
        await asyncio.sleep(0.001)
    await port.close()
    try:
        assert await asyncio.wait_for(reader.read(), 2) == b""
    except ConnectionResetError:
        pass  # ended either way: FIN or RST
    writer.close()


def test_codec_helpers() -> None:
    assert parse_head(b"GET /a?b=1 HTTP/1.0\r\nHost: x") == ("GET", "/a")
    with pytest.raises(ValueError):
        parse_head(b"GET /a HTTP/2")
    out = render(200, {"b": 1, "a": [1]})
    head, body = out.split(b"\r\n\r\n")
    assert body == b'{"a":[1],"b":1}\n'
    assert f"Content-Length: {len(body)}".encode() in head


@given(st.binary(max_size=200))
def test_fuzzed_heads_raise_only_value_error(head: bytes) -> None:
    try:
        method, path = parse_head(head)
    except ValueError:
        return
    assert method.isupper() and path.startswith("/")
