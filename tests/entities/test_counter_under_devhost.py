"""The counter entity app under ``python -m devhost`` in a subprocess (real clock, loopback HTTP): an
orchestration that signals, calls and catches a failing operation, and the entity HTTP API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

try:
    from crash.hostproc import _BANNER_URL, REPO, WEBHOOKS, http, wait_for
except ImportError:  # tests/ is a package: import it by its package path
    from tests.crash.hostproc import _BANNER_URL, REPO, WEBHOOKS, http, wait_for  # type: ignore[no-redef]

APP = REPO / "tests" / "apps" / "entity_counter"


def test_the_counter_app_runs_unchanged_under_python_m_devhost(tmp_path: Path) -> None:
    out, err = tmp_path / "host.out", tmp_path / "host.err"
    command = [sys.executable, "-m", "devhost", "--app-dir", str(APP), "--port", "0", "--store", str(tmp_path / "s.db")]
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(command, cwd=REPO, stdout=stdout, stderr=stderr)
    try:
        port = wait_for(lambda: _port(out), timeout=30, what="the banner")
        base = f"http://127.0.0.1:{port}"
        started = http("POST", f"{base}{WEBHOOKS}/orchestrators/counter_orchestrator", {"key": "sub"})
        assert started.status == 202, started.text
        status_url = started.json()["statusQueryGetUri"]

        done = wait_for(lambda: _finished(status_url), timeout=30, what="the orchestration to finish")
        state = http("GET", f"{base}{WEBHOOKS}/entities/Counter/sub")

        assert done["runtimeStatus"] == "Completed", done
        assert done["output"] == {"value": 3, "caught": "cannot fail a counter at 3", "after": 7}
        assert (state.status, state.json()) == (200, 7)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _port(out: Path) -> int | None:
    found = _BANNER_URL.search(out.read_text(errors="replace"))
    return int(found.group(1)) if found else None


def _finished(url: str) -> dict | None:
    response = http("GET", url)
    return response.json() if response.status == 200 else None
