"""A real host serving the unchanged app on loopback (virtual clock, file store), and a raw HTTP/1.1 client.

The raw client writes exactly the bytes it is given and reads the answer until the server closes, so malformed
requests reach the server as sent (no client library fixes them up).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from devhost.clock import VirtualClock
from devhost.core.model import Instance, InstanceQuery
from devhost.host.server import DevHost
from devhost.http.limits import HttpLimits
from devhost.runtime.timeskip import release_sleepers
from devhost.testing.loop import LoopThread

APP_DIR = Path(__file__).resolve().parents[2]
START = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
WEBHOOKS = "/runtime/webhooks/durabletask"
IO_TIMEOUT = 10.0
"""Real seconds a socket read may take before the test fails instead of hanging."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    raw: bytes = field(repr=False, default=b"")

    def json(self) -> Any:
        return json.loads(self.body)


def parse_answer(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines[0].startswith("HTTP/") else 0
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return Answer(status, headers, body, raw)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


class RunningHost:
    """The host on its loop thread, with helpers to talk to it and to read its store."""

    def __init__(self, loop: LoopThread, host: DevHost) -> None:
        self.loop = loop
        self.host = host
        self.port = host.port
        self.authority = f"127.0.0.1:{self.port}"

    def send(self, data: bytes, *, timeout: float = IO_TIMEOUT, head_only: bool = False) -> Answer:
        """Write ``data`` on a fresh connection and read the answer (or nothing, if the server just closes)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused while we were still sending: the answer may be waiting all the same
            return parse_answer(read_all(sock, head_only=head_only))

    def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        host: str | None = None,
    ) -> Answer:
        """One HTTP/1.1 request with ``Connection: close``; ``headers`` may override Host and Content-Length."""
        fields = {"Host": self.authority if host is None else host, "Connection": "close"}
        if body or method in ("POST", "PUT", "PATCH", "DELETE"):
            fields["Content-Length"] = str(len(body))
        fields.update(headers or {})
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        return self.send(head.encode("utf-8", "surrogateescape") + body, head_only=method == "HEAD")

    def instances(self) -> list[Instance]:
        page, _ = self.host.store.query_instances(InstanceQuery(top=100_000))
        return page


def read_all(sock: socket.socket, *, head_only: bool = False) -> bytes:
    """Everything up to the end of the first response (by its Content-Length) or until the server closes."""
    data = b""
    while True:
        if _complete(data) or (head_only and b"\r\n\r\n" in data):
            return data
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def _complete(data: bytes) -> bool:
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def start_host(tmp_path: Path, limits: HttpLimits | None = None, app_dir: Path = APP_DIR) -> tuple[LoopThread, DevHost]:
    loop = LoopThread()
    host = DevHost(
        app_dir, port=0, store_path=tmp_path / "store.sqlite3", clock=VirtualClock(START), http_limits=limits, shutdown_timeout=2
    )
    loop.run(host.start(), timeout=60)
    return loop, host


def stop_host(loop: LoopThread, host: DevHost) -> None:
    try:
        loop.run(host.stop(), timeout=60)
    finally:
        # Activities asleep on the virtual clock (the monitors' waits) were abandoned at stop: wake their threads,
        # or they block forever on a clock nobody advances (and the test kit's thread join waits on them).
        release_sleepers(host.clock)
        loop.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """One host for a module's tests (they must leave it serving)."""
    loop, host = start_host(tmp_path_factory.mktemp("hostile"))
    yield RunningHost(loop, host)
    stop_host(loop, host)


@pytest.fixture(scope="module")
def roomy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A host whose URL and header bounds are 64 KB, so values past Python's int-string limit get through to the
    parsers behind them (the defects the bounds would otherwise hide)."""
    limits = HttpLimits(max_url_bytes=64 * 1024, max_header_line_bytes=64 * 1024, max_headers_total_bytes=128 * 1024)
    loop, host = start_host(tmp_path_factory.mktemp("roomy"), limits)
    yield RunningHost(loop, host)
    stop_host(loop, host)


@pytest.fixture
def strict_host(tmp_path: Path) -> Iterator[RunningHost]:
    """A host with tight timeouts (tenths of a second), for the slow-client tests."""
    limits = HttpLimits(header_timeout_seconds=0.5, body_grace_seconds=0.3, min_body_bytes_per_second=1000.0)
    loop, host = start_host(tmp_path, limits)
    yield RunningHost(loop, host)
    stop_host(loop, host)
