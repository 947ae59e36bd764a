"""A real ``python -m devhost`` on a free port serving the monitoring app, and the CLI run as real processes.

The host runs on its real clock (the CLI cannot reach a virtual one), so these tests keep monitors short
(1 s polling, a few seconds of job) and only ever poll with a deadline, never sleep for a fixed time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from devhost.clock import RealClock

REPO = Path(__file__).resolve().parents[2]
BANNER = re.compile(r"^Dashboard: (http://127\.0\.0\.1:\d+)/_devhost/$", re.MULTILINE)
DEADLINE_SECONDS = 30.0
T = TypeVar("T")
_clock = RealClock()


def wait_for(condition: Callable[[], T | None], what: str, timeout: float = DEADLINE_SECONDS) -> T:
    deadline = _clock.now().timestamp() + timeout
    while True:
        value = condition()
        if value:
            return value
        if _clock.now().timestamp() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        _clock.sleep_blocking(0.02)  # a poll pause, not a wait for something to have happened


@dataclass
class Run:
    code: int
    out: str
    err: str


class Host:
    def __init__(self, workdir: Path) -> None:
        self.out_path = workdir / "host.out"
        self.err_path = workdir / "host.err"
        command = [sys.executable, "-m", "devhost", "--app-dir", str(REPO), "--port", "0", "--in-memory"]
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=err)
        self.url = wait_for(self._banner_url, "the banner's dashboard line")

    def _banner_url(self) -> str | None:
        if self.process.poll() is not None:
            raise AssertionError(f"devhost exited {self.process.returncode}: {self.err_path.read_text()[-2000:]}")
        found = BANNER.search(self.out_path.read_text(errors="replace"))
        return found.group(1) if found else None

    def start_monitor(self, job_id: str, **fields: Any) -> str:
        body = json.dumps(
            {"job_id": job_id, "polling_interval_seconds": 1, "timeout_seconds": 30, "simulated_duration_seconds": 2, **fields}
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/api/start_monitoring_job", data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        return job_id

    def cli(self, *args: str, url: str | None = None) -> Run:
        done = subprocess.run(
            [sys.executable, "-m", "devhost", *args, "--url", url or self.url],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def cli_background(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "devhost", *args, "--url", self.url],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def runtime_status(self, instance_id: str) -> str | None:
        """Straight from the Durable HTTP API (polling through the CLI would start a process per poll)."""
        try:
            with urllib.request.urlopen(
                f"{self.url}/runtime/webhooks/durabletask/instances/{instance_id}", timeout=10
            ) as response:
                return str(json.loads(response.read())["runtimeStatus"])
        except urllib.error.HTTPError as error:
            with error:
                return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=DEADLINE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def finish(process: subprocess.Popen[str]) -> Run:
    out, err = process.communicate(timeout=DEADLINE_SECONDS)
    return Run(process.returncode, out, err)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]
