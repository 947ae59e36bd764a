"""The host's HTTP server reads sockets into one reused buffer (devhost/http/reads.py), with nothing else changed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from devhost.http.reads import READ_SIZE, BufferedReads, ReusedBufferSite


class RecordingProtocol(asyncio.Protocol):
    """A plain protocol that records what it is given."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.events: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.events.append("made")

    def data_received(self, data: bytes) -> None:
        self.received.append(data)

    def eof_received(self) -> bool | None:
        self.events.append("eof")
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.events.append("lost")

    def pause_writing(self) -> None:
        self.events.append("pause")

    def resume_writing(self) -> None:
        self.events.append("resume")


def test_a_read_reaches_the_handler_as_bytes_of_what_was_read_copied_out_of_the_buffer() -> None:
    shared = memoryview(bytearray(16))
    inner = RecordingProtocol()
    reads = BufferedReads(inner, shared)

    buffer = reads.get_buffer(-1)
    buffer[:5] = b"hello"
    reads.buffer_updated(5)
    shared[:5] = b"XXXXX"  # the next read overwrites the buffer

    assert buffer is shared
    assert inner.received == [b"hello"]
    assert type(inner.received[0]) is bytes


def test_everything_but_reads_is_passed_to_the_handler_unchanged() -> None:
    inner = RecordingProtocol()
    reads = BufferedReads(inner, memoryview(bytearray(16)))

    reads.connection_made(asyncio.Transport())
    reads.pause_writing()
    reads.resume_writing()
    keep_open = reads.eof_received()
    reads.connection_lost(None)

    assert inner.events == ["made", "pause", "resume", "eof", "lost"]
    assert keep_open is True


async def _echo(request: web.Request) -> web.Response:
    protocol = request.transport.get_protocol() if request.transport is not None else None
    return web.Response(body=await request.read(), headers={"X-Protocol": type(protocol).__name__})


@pytest_asyncio.fixture
async def port() -> AsyncIterator[int]:
    app = web.Application(client_max_size=4 * READ_SIZE)
    app.router.add_post("/echo", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    await ReusedBufferSite(runner, sock).start()
    yield int(sock.getsockname()[1])
    await runner.cleanup()


def _exchange(port: int, payload: bytes, count: int) -> list[tuple[str, bytes]]:
    """``count`` pipelined POSTs of ``payload`` on one connection: (X-Protocol, body) of each answer."""
    request = f"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload
    answers: list[tuple[str, bytes]] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request * count)
        data = b""
        while len(answers) < count:
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                head = data[:head_end].decode("latin-1").split("\r\n")
                fields = {name.lower(): value for name, value in (line.split(": ", 1) for line in head[1:])}
                end = head_end + 4 + int(fields["content-length"])
                if len(data) >= end:
                    answers.append((fields["x-protocol"], data[head_end + 4 : end]))
                    data = data[end:]
                    continue
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection early"
            data += chunk
    return answers


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [0, 1, 5000, READ_SIZE + 12_345])
async def test_requests_through_the_reused_buffer_come_back_byte_for_byte(port: int, size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))

    answers = await asyncio.to_thread(_exchange, port, payload, 3)

    assert answers == [("BufferedReads", payload)] * 3


@pytest.mark.asyncio
async def test_connections_read_concurrently_do_not_see_each_others_bytes(port: int) -> None:
    payloads = [bytes([n]) * (3 * READ_SIZE // 2) for n in range(1, 6)]

    results = await asyncio.gather(*(asyncio.to_thread(_exchange, port, payload, 2) for payload in payloads))

    assert results == [[("BufferedReads", payload)] * 2 for payload in payloads]
