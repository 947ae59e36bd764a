"""Replay checks in a test suite: histories recorded earlier (checked into a folder) must still replay
against the app's current code.

Typical use::

    from devhost.testing.replay import assert_replays, save_history

    def test_recorded_orchestrations_still_replay():
        assert_replays(".", "tests/histories")          # app directory, folder of *.json recordings

    def test_record_a_history(durable_app, tmp_path):   # how a recording is made (then checked in)
        app = durable_app()
        instance_id = app.start("my_orchestrator", {"x": 1})
        app.wait_for_completion(instance_id)
        save_history(app, instance_id, tmp_path)

Recordings may be saved recordings, raw history lists or status documents (see :mod:`devhost.replay.sources`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Union

from devhost.replay.check import check
from devhost.replay.model import STATUS_TIME_TOLERANCE, ReplayResult, ReplayTarget
from devhost.replay.sources import NO_HISTORY_FILES, load_paths, open_target, save_recording, target_for_registry
from devhost.runtime.registry import FunctionRegistry

AppSource = Union[str, Path, FunctionRegistry, ReplayTarget]
HistorySource = Union[str, Path, Iterable[Union[str, Path]]]


def replay_histories(
    app: AppSource, histories: HistorySource, *, time_tolerance: Any = STATUS_TIME_TOLERANCE
) -> list[ReplayResult]:
    """Replay every recording under ``histories`` (a file, a folder searched for ``*.json``, or several)
    against ``app`` (an app directory, a FunctionRegistry, or a ReplayTarget). Unreadable files come back
    as results with ``error`` set; nothing raises for a bad recording."""
    target = _target(app)
    paths = [histories] if isinstance(histories, (str, Path)) else list(histories)
    recordings, errors = load_paths(paths)
    results = [ReplayResult(Path(e.source).name, "?", e.source, 0, error=e.message) for e in errors]
    results += [check(recording, target, time_tolerance=time_tolerance) for recording in recordings]
    return results


def assert_replays(app: AppSource, histories: HistorySource, **options: Any) -> list[ReplayResult]:
    """Fail the test (AssertionError listing every problem) unless every recording replays; also fail when
    there is no recording at all, so a mistyped folder cannot pass silently. Returns the results."""
    results = replay_histories(app, histories, **options)
    if all(r.error == NO_HISTORY_FILES for r in results):
        raise AssertionError(f"no recorded histories found in {histories}")
    bad = [r for r in results if not r.ok]
    if bad:
        lines = "\n".join(_describe(r) for r in bad)
        raise AssertionError(f"{len(bad)} of {len(results)} recorded histories no longer replay:\n{lines}")
    return results


def save_history(app: Any, instance_id: str, path: str | Path) -> Path:
    """Save an instance of a running test app (a :class:`~devhost.testing.handle.DurableAppHandle`) in the
    recording format; ``path`` is a file, or a directory (then ``<instance_id>.json`` inside it)."""
    status = app.status(instance_id)
    history = app.history(instance_id)
    target = Path(path)
    if target.is_dir() or not target.suffix:
        target = target / f"{instance_id}.json"
    # The status API returns the stored input decoded once (API notes B.3): encode it back.
    input_text: str | None = None if status.get("input") is None else json.dumps(status["input"])
    return save_recording(target, status["name"], instance_id, input_text, history)


def _target(app: AppSource) -> ReplayTarget:
    if isinstance(app, ReplayTarget):
        return app
    if isinstance(app, FunctionRegistry):
        return target_for_registry(app)
    return open_target(app)


def _describe(result: ReplayResult) -> str:
    where = f"  [{result.source}]" if result.source else ""
    return f"  {result.line()}{where}"
