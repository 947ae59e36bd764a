"""Recording through the real host: devhost in-process on a VirtualClock, writing a SQLite store file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devhost.clock import VirtualClock
from devhost.host.server import DevHost
from devhost.testing.inprocess import DurableAppHandle
from devhost.testing.loop import LoopThread


@contextmanager
def running_app(app_dir: Path, store_path: Path) -> Iterator[DurableAppHandle]:
    loop = LoopThread()
    host = DevHost(app_dir=app_dir, host="127.0.0.1", port=0, store_path=store_path, clock=VirtualClock())
    loop.run(host.start(), timeout=60)
    try:
        yield DurableAppHandle(host, loop)
    finally:
        loop.run(host.stop(), timeout=60)
        loop.close()


def record_store(app_dir: Path, store_path: Path, status_dir: Path) -> None:
    """Run a few orchestrations to the end (and leave one waiting) on the real host; also save each
    finished one's status document (with history) from the HTTP API into ``status_dir``."""
    status_dir.mkdir(parents=True, exist_ok=True)
    with running_app(app_dir, store_path) as app:
        finished = [
            app.start("chain", instance_id="h-chain"),
            app.start("sleeper", instance_id="h-sleeper"),
            app.start("greet", "Ann", instance_id="h-greet"),
            app.start("counter", 0, instance_id="h-counter"),
        ]
        for instance_id in finished:
            app.wait_for_completion(instance_id)
            document = app.status(instance_id, show_history=True, show_history_output=True)
            (status_dir / f"{instance_id}.json").write_text(json.dumps(document), encoding="utf-8")
        app.start("waiter", instance_id="h-waiting")
        app.wait_for_status("h-waiting", "Running")
