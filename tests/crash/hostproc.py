"""``python -m devhost`` as a child process for the crash tests: start it on a store, wait until it serves,
talk to it over loopback HTTP, then SIGKILL it or stop it with SIGTERM.

These are the one place in the suite where real time passes: the host runs on its real clock. Nothing here
sleeps for a fixed time; :func:`wait_for` polls a condition every few milliseconds up to a deadline.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

REPO = Path(__file__).resolve().parents[2]
CRASH_APP = REPO / "tests" / "apps" / "crash_app"
WEBHOOKS = "/runtime/webhooks/durabletask"
POLL_INTERVAL_SECONDS = 0.01
STARTUP_DEADLINE_SECONDS = 30.0

_BANNER_URL = re.compile(r"^Durable HTTP API: http://127\.0\.0\.1:(\d+)/", re.MULTILINE)

T = TypeVar("T")
HTTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def http(method: str, url: str, body: Any = None) -> Response:
    """One loopback request; every status is returned, only connection problems raise (OSError)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {} if body is None else {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return Response(response.status, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Response(error.code, error.read())


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Return ``condition()``'s first truthy value, polling until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL_INTERVAL_SECONDS)  # a poll pause, not a wait for something to have happened


class HostProcess:
    """One devhost process. ``generation`` tags its ledger lines; ``hang`` makes hang steps block."""

    def __init__(self, workdir: Path, store: Path, ledger: Path, *, generation: str, hang: bool) -> None:
        self.workdir = workdir
        self.generation = generation
        self.stdout_path = workdir / f"host-{generation}.out"
        self.stderr_path = workdir / f"host-{generation}.err"
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "CRASH_LEDGER": str(ledger),
            "CRASH_GENERATION": generation,
            "CRASH_HANG": "1" if hang else "0",
        }
        # --port 0: the OS picks a free port, which the host prints in its banner; no probe-then-bind race.
        command = [sys.executable, "-m", "devhost", "--app-dir", str(CRASH_APP), "--port", "0", "--store", str(store)]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err)
        self.base_url: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def logs(self) -> str:
        parts = [path.read_text(errors="replace") for path in (self.stdout_path, self.stderr_path) if path.exists()]
        return "\n".join(parts)[-4000:]

    def _exited(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"devhost exited with status {self.process.returncode}:\n{self.logs()}")

    def wait_ready(self) -> HostProcess:
        def port() -> int | None:
            self._exited()
            found = _BANNER_URL.search(self.stdout_path.read_text(errors="replace"))
            return int(found.group(1)) if found else None

        self.base_url = f"http://127.0.0.1:{wait_for(port, timeout=STARTUP_DEADLINE_SECONDS, what='the banner')}"

        def running() -> bool:
            self._exited()
            try:
                return self.get("/admin/host/status").status == 200
            except OSError:
                return False

        wait_for(running, timeout=STARTUP_DEADLINE_SECONDS, what="/admin/host/status to answer 200")
        return self

    def get(self, path: str, **params: Any) -> Response:
        assert self.base_url is not None, "wait_ready() first"
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return http("GET", self.base_url + path + query)

    def start_orchestration(self, name: str, instance_id: str, body: Any) -> None:
        assert self.base_url is not None, "wait_ready() first"
        response = http("POST", f"{self.base_url}{WEBHOOKS}/orchestrators/{name}/{instance_id}", body)
        assert response.status == 202, f"start {instance_id}: {response.status} {response.text}"

    def statuses(self) -> dict[str, dict[str, Any]]:
        """Every instance's status (one list query), by instance id."""
        response = self.get(f"{WEBHOOKS}/instances", showInput="false", top=1000)
        assert response.status == 200, response.text
        return {status["instanceId"]: status for status in response.json()}

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STARTUP_DEADLINE_SECONDS)

    def terminate(self, timeout: float = STARTUP_DEADLINE_SECONDS) -> int:
        """SIGTERM, then wait for the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        """Leave nothing running, whatever the test did."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STARTUP_DEADLINE_SECONDS)


def copy_store(store: Path, target_dir: Path) -> Path:
    """Copy a store *file set* (database, WAL, shared memory) of a dead process, to read it as it was left."""
    target_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{store}{suffix}")
        if source.exists():
            shutil.copyfile(source, target_dir / f"{store.name}{suffix}")
    return target_dir / store.name


def read_ledger(ledger: Path) -> list[dict[str, Any]]:
    if not ledger.exists():
        return []
    return [json.loads(line) for line in ledger.read_text().splitlines() if line.strip()]
