"""Every route is bounded: URL length, query-parameter count, header size, body size, body rate and head time.
Malformed HTTP, written byte for byte on raw sockets, is a 400 and the host keeps serving."""

from __future__ import annotations

import socket

import pytest

from devhost.http.limits import valid_authority

from .conftest import IO_TIMEOUT, WEBHOOKS, RunningHost, parse_answer, read_all

ROUTES = [
    ("GET", f"{WEBHOOKS}/instances"),
    ("POST", f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator"),
    ("GET", "/durabletask/instances"),
    ("POST", "/api/start_monitoring_job"),
    ("GET", "/api/job_status/abc"),
    ("GET", "/admin/host/status"),
    ("POST", "/_devhost/api/anything"),
    ("GET", "/no/such/route"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_url_over_4096_bytes_is_414_on_every_route(served: RunningHost, method: str, path: str) -> None:
    answer = served.request(method, f"{path}?pad={'x' * 4100}")

    assert answer.status == 414
    assert "4096 bytes" in answer.json()["Message"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_more_than_1024_query_parameters_is_400_on_every_route(served: RunningHost, method: str, path: str) -> None:
    answer = served.request(method, f"{path}?" + "&".join(["a"] * 1500))

    assert answer.status == 400
    assert "query parameters" in answer.json()["Message"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_headers_over_32_kb_in_all_are_431_on_every_route(served: RunningHost, method: str, path: str) -> None:
    headers = {f"X-Pad-{n}": "v" * 4000 for n in range(9)}

    answer = served.request(method, path, headers=headers)

    assert answer.status == 431


def test_more_than_100_header_fields_are_refused_by_the_parser(served: RunningHost) -> None:
    answer = served.request("GET", "/admin/host/status", headers={f"X-H{n}": "1" for n in range(120)})

    assert answer.status == 400


def test_a_header_line_over_8190_bytes_is_refused_by_the_parser(served: RunningHost) -> None:
    answer = served.request("GET", "/admin/host/status", headers={"X-Long": "v" * 9000})

    assert answer.status == 400


def test_a_durable_api_body_over_16_mb_is_413_before_it_is_read(served: RunningHost) -> None:
    before = len(served.instances())
    head = (
        f"POST {WEBHOOKS}/orchestrators/monitoring_job_orchestrator HTTP/1.1\r\nHost: {served.authority}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {17 * 1024 * 1024}\r\n\r\n"
    )

    answer = served.send(head.encode() + b"[")  # the rest never comes: the cap is checked on the declared length

    assert answer.status == 413
    assert len(served.instances()) == before


def test_a_chunked_body_over_the_cap_is_413_while_it_is_read(served: RunningHost) -> None:
    chunk = b"x" * 65536
    head = f"POST {WEBHOOKS}/orchestrators/monitoring_job_orchestrator HTTP/1.1\r\nHost: {served.authority}\r\n"
    head += "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    with socket.create_connection(("127.0.0.1", served.port), timeout=IO_TIMEOUT) as sock:
        sock.sendall(head.encode())
        try:
            for _ in range(17 * 16 + 1):  # 17 MB in 64 KB chunks
                sock.sendall(b"10000\r\n" + chunk + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed while we were still sending
        answer = parse_answer(read_all(sock))

    assert answer.status == 413


def test_a_url_with_bytes_that_are_not_utf8_is_400(served: RunningHost) -> None:
    before = len(served.instances())

    answer = served.request("POST", f"{WEBHOOKS}/instances/x/terminate?reason=\udcff\udcfe")

    assert answer.status == 400
    assert len(served.instances()) == before


# --- slow clients --------------------------------------------------------------------------------------------
def test_a_client_trickling_its_headers_is_cut_off(strict_host: RunningHost) -> None:
    with socket.create_connection(("127.0.0.1", strict_host.port), timeout=IO_TIMEOUT) as sock:
        sock.sendall(b"GET /admin/host/status HTTP/1.1\r\nHost: x\r\n")  # and never the blank line

        assert sock.recv(100) == b""  # the server closed the connection (recv would block otherwise)


def test_a_client_sending_its_head_a_byte_at_a_time_is_cut_off(strict_host: RunningHost) -> None:
    head = b"GET /admin/host/status HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"y" * 200 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", strict_host.port)) as sock:
        sock.settimeout(0.05)  # between bytes, wait up to 50 ms for the server to hang up
        sent = 0
        closed = False
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
                sent += 1
                closed = sock.recv(100) == b""
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            if closed:
                break

    assert closed and sent < len(head)  # ~0.5 s head timeout versus ~12 s for the whole head at this pace


def test_a_client_that_never_sends_anything_is_cut_off(strict_host: RunningHost) -> None:
    with socket.create_connection(("127.0.0.1", strict_host.port), timeout=IO_TIMEOUT) as sock:
        assert sock.recv(100) == b""


def test_a_body_arriving_too_slowly_is_408_and_starts_nothing(strict_host: RunningHost) -> None:
    before = len(strict_host.instances())
    head = (
        f"POST {WEBHOOKS}/orchestrators/monitoring_job_orchestrator HTTP/1.1\r\nHost: {strict_host.authority}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", strict_host.port), timeout=IO_TIMEOUT) as sock:
        sock.sendall(head.encode() + b'{"a": ')  # then nothing: far below the minimum rate
        answer = parse_answer(read_all(sock))

    assert answer.status == 408
    assert len(strict_host.instances()) == before


def test_a_request_served_after_the_bounds_still_works(strict_host: RunningHost) -> None:
    answer = strict_host.request("POST", f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator", body=b'{"job_id":"ok"}')

    assert answer.status == 202


# --- malformed HTTP on raw sockets ------------------------------------------------------------------------------
SMJ = b"POST /api/start_monitoring_job HTTP/1.1\r\n"
MALFORMED = {
    "garbage request line": b"HELLO\r\n\r\n",
    "unknown version": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "space in the target": b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    "control byte in the target": b"GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n",
    "header without colon": b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
    "negative content length": b"POST /durabletask/orchestrators/x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "two content lengths": SMJ + b"Host: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "content length and chunked": (SMJ + b"Host: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "bad chunk size": SMJ + b"Host: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    "bare LF line endings in chunks": (SMJ + b"Host: x\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\n0\n\n"),
    "binary noise": bytes(range(256)) * 4,
    "two Host headers": b"GET /admin/host/status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_http_is_a_400_and_the_host_keeps_serving(served: RunningHost, data: bytes) -> None:
    before = len(served.instances())

    answer = served.send(data)

    assert 400 <= answer.status < 500 or answer.raw == b"", answer.raw[:200]
    assert len(served.instances()) == before
    assert served.request("GET", "/admin/host/status").status == 200


def test_host_authority_rules() -> None:
    assert valid_authority("127.0.0.1:7071")
    assert valid_authority("[::1]:7071")
    assert valid_authority("my-box.local")
    assert not valid_authority("")
    assert not valid_authority("127.0.0.1:-1")
    assert not valid_authority("[::1")
    assert not valid_authority("[::1]x")
    assert not valid_authority("host:65536")
    assert not valid_authority("user@host")
