"""The CLI's HTTP client, its errors and its exit codes (one table, used by every client command)."""

from __future__ import annotations

import argparse
import enum
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any, TextIO

DEFAULT_URL = "http://localhost:7071"
URL_VARIABLE = "DEVHOST_URL"
WEBHOOKS = "/runtime/webhooks/durabletask"
DASHBOARD_API = "/_devhost/api"
TIMEOUT_SECONDS = 30.0


class ExitCode(enum.IntEnum):
    """What each client command exits with (``watch`` uses all of them)."""

    OK = 0
    """Done; for ``watch``: the instance Completed (and its result, if it reports one, is not Failed/Timeout)."""
    FAILED = 1
    """``watch``: the instance Failed, or Completed reporting ``final_status: Failed`` (the monitoring app)."""
    USAGE = 2
    """A bad flag or argument (argparse's code), also when the host rejects a filter value (HTTP 400)."""
    TERMINATED = 3
    """``watch``: the instance was Terminated (or Canceled)."""
    NOT_FOUND = 4
    """No instance with that id."""
    TIMED_OUT_RESULT = 5
    """``watch``: the instance Completed reporting ``final_status: Timeout`` (a monitor that gave up on its job)."""
    WATCH_TIMEOUT = 6
    """``watch --timeout``: the instance was still running when the time ran out."""
    UNREACHABLE = 7
    """The host did not answer, or answered something unexpected (5xx, not JSON)."""
    REFUSED = 8
    """The host refused the action (e.g. 410: terminate a finished instance; 409; 400 on an action)."""


class CommandError(Exception):
    """A one-line error for the user, and the code to exit with."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


class Response:
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            raise CommandError(
                f"the host answered HTTP {self.status} with a body that is not JSON", ExitCode.UNREACHABLE
            ) from None

    def message(self) -> str:
        """The error text of a JSON error body (dashboard ``message`` or the extension's ``Message``)."""
        try:
            body = json.loads(self.body) if self.body else None
        except ValueError:
            return self.body.decode("utf-8", "replace")[:200]
        if isinstance(body, dict):
            return str(body.get("message") or body.get("Message") or body.get("ExceptionMessage") or body)
        return str(body) if body is not None else f"HTTP {self.status}"


class HostClient:
    """Loopback HTTP to one host. Every status comes back as a :class:`Response`; only a host that cannot be
    reached raises (:class:`CommandError` with :attr:`ExitCode.UNREACHABLE`)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, body: bytes | None = None) -> Response:
        query = "?" + urllib.parse.urlencode(params, doseq=True) if params else ""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path + query, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                response = Response(answer.status, answer.read())
        except urllib.error.HTTPError as error:
            with error:
                response = Response(error.code, error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CommandError(
                f"cannot reach the host at {self.url}: {reason} (is 'python -m devhost' running there?)", ExitCode.UNREACHABLE
            ) from None
        if response.status >= 500:
            raise CommandError(
                f"the host at {self.url} failed: HTTP {response.status}: {response.message()}", ExitCode.UNREACHABLE
            )
        return response

    def status(self, instance_id: str, *, show_input: bool = True) -> dict[str, Any]:
        """The instance's status payload; NOT_FOUND when there is none."""
        response = self.request("GET", f"{WEBHOOKS}/instances/{quote(instance_id)}", {"showInput": str(show_input).lower()})
        if response.status == 404:
            raise CommandError(f"no instance {instance_id!r} on {self.url}", ExitCode.NOT_FOUND)
        if response.status not in (200, 202):
            raise CommandError(f"status of {instance_id!r}: HTTP {response.status}: {response.message()}", ExitCode.UNREACHABLE)
        body = response.json()
        if not isinstance(body, dict):
            raise CommandError(f"status of {instance_id!r}: unexpected answer {body!r}", ExitCode.UNREACHABLE)
        return body

    def dashboard(self, path: str, params: dict[str, Any] | None = None, *, instance_id: str | None = None) -> Any:
        response = self.request("GET", DASHBOARD_API + path, params)
        if response.status == 404 and instance_id is not None:
            raise CommandError(f"no instance {instance_id!r} on {self.url}", ExitCode.NOT_FOUND)
        if response.status == 400:
            raise CommandError(response.message(), ExitCode.USAGE)
        if response.status != 200:
            raise CommandError(f"{path}: HTTP {response.status}: {response.message()} (is this a devhost?)", ExitCode.UNREACHABLE)
        return response.json()


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def base_parser(command: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m devhost {command}", description=description)
    parser.add_argument(
        "--url",
        default=os.environ.get(URL_VARIABLE) or DEFAULT_URL,
        help=f"the host's base URL (default: ${URL_VARIABLE} or {DEFAULT_URL})",
    )
    return parser


def check_url(parser: argparse.ArgumentParser, url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        parser.error(f"--url {url!r} is not an http(s) URL (e.g. {DEFAULT_URL})")
    return url


def run(command: str, body: Any, argv: Sequence[str], err: TextIO | None = None) -> int:
    """Run one command's body, turning a CommandError into its one-line message and exit code."""
    try:
        return int(body(argv))
    except CommandError as error:
        print(f"devhost {command}: error: {error}", file=err or sys.stderr)
        return int(error.code)
    except KeyboardInterrupt:
        return 130
