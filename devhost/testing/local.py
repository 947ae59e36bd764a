"""Starting apps in-process on a virtual clock: the :func:`durable_app` context manager and finding an app.

The host (:class:`devhost.host.server.DevHost`) runs on a :class:`~devhost.testing.loop.LoopThread` with a
:class:`~devhost.clock.VirtualClock` and a SQLite store in a directory the caller owns. Time moves only
inside :meth:`DurableAppHandle.wait_for_completion` / :meth:`~DurableAppHandle.wait_for_status` (skipping to the
next deadline whenever the engine is idle, like Temporal's time-skipping test server) and
:meth:`~DurableAppHandle.advance` (stepping through deadlines up to a target). While the test itself runs,
time stands still, so what it observes between two waits is deterministic.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from devhost.clock import VirtualClock
from devhost.core.errors import AppLoadError
from devhost.host.server import DevHost
from devhost.runtime.loader import missing_app_error
from devhost.runtime.threadpool import FUNCTION_THREAD_PREFIX
from devhost.runtime.timeskip import release_sleepers
from devhost.testing.handle import AppRef
from devhost.testing.inprocess import DurableAppHandle
from devhost.testing.loop import LoopThread

APP_FILE = "function_app.py"
_HOST_TIMEOUT = 60.0


# --- finding the app ---------------------------------------------------------------------------------
def resolve_app_dir(app: AppRef, *, base: Path | None = None) -> Path:
    """The directory of the app ``app`` names (relative paths are taken from ``base``, default the cwd).

    devhost indexes ``function_app.py`` as the Functions host does, so a module must be that file.
    """
    text = os.fspath(app)
    root = Path(base) if base is not None else Path.cwd()
    path = Path(text) if Path(text).is_absolute() else root / text
    if path.exists() or isinstance(app, os.PathLike) or os.sep in text or "/" in text or text.endswith(".py"):
        return _app_dir_from_path(path)
    return _app_dir_from_module(text)


def _app_dir_from_path(path: Path) -> Path:
    if path.is_dir():
        if not (path / APP_FILE).is_file():
            raise missing_app_error(path)  # names the v1 programming model when that is what it is
        return path.resolve()
    if path.is_file():
        if path.name != APP_FILE:
            raise AppLoadError(f"{path}: devhost loads an app from its {APP_FILE}; pass that file or its directory")
        return path.parent.resolve()
    raise AppLoadError(f"no app at {path} (expected a directory with {APP_FILE}, or that file)")


def _app_dir_from_module(name: str) -> Path:
    try:
        if "." in name:
            spec = importlib.util.find_spec(name)
        else:
            # Search sys.path, not sys.modules: the loader registers the last app it imported as
            # `function_app`, which may be another app's file.
            spec = importlib.machinery.PathFinder.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise AppLoadError(f"cannot find module {name!r}: {exc}") from None
    if spec is None:
        raise AppLoadError(f"no app at {name!r}: not a path and not an importable module")
    if spec.submodule_search_locations:  # a package: its directory must hold function_app.py
        return _app_dir_from_path(Path(list(spec.submodule_search_locations)[0]))
    if spec.origin is None:
        raise AppLoadError(f"module {name!r} has no file")
    return _app_dir_from_path(Path(spec.origin))


# --- starting and stopping ---------------------------------------------------------------------------
WORKERS_VARIABLE = "DEVHOST_WORKERS"
"""Set to 1 to run every app the test kit starts in language-worker processes (default: in the test's process)."""


def workers_wanted(workers: bool | None) -> bool:
    """``workers`` if given, else the ``DEVHOST_WORKERS`` environment variable (``1``: on)."""
    return workers if workers is not None else os.environ.get(WORKERS_VARIABLE, "").strip() == "1"


class AppSession:
    """Apps started on one loop thread and stopped together (the fixture's unit: one test)."""

    def __init__(self) -> None:
        self._loop: LoopThread | None = None
        self._hosts: list[Any] = []

    def start(
        self, app_dir: Path, *, store_dir: Path, start_time: datetime | None = None, workers: bool | None = None
    ) -> DurableAppHandle:
        if self._loop is None:
            self._loop = LoopThread()
        host = DevHost(
            app_dir=app_dir,
            host="127.0.0.1",
            port=0,
            store_path=Path(store_dir) / "store.sqlite3",
            clock=VirtualClock(start_time),
            workers=workers_wanted(workers),
        )
        try:
            self._loop.run(host.start(), timeout=_HOST_TIMEOUT)
        except TimeoutError:
            raise RuntimeError(f"the app at {app_dir} did not start within {_HOST_TIMEOUT} s") from None
        self._hosts.append(host)
        return DurableAppHandle(host, self._loop)

    def close(self) -> None:
        """Stop every host (newest first), wake functions asleep on their clocks, stop the loop."""
        loop, self._loop = self._loop, None
        hosts, self._hosts = self._hosts, []
        errors: list[BaseException] = []
        if loop is None:
            return
        try:
            for host in reversed(hosts):
                try:
                    loop.run(host.stop(), timeout=_HOST_TIMEOUT)
                except BaseException as exc:  # stop the others anyway; report the first failure
                    errors.append(exc)
                # The engine abandons activities asleep on the clock at stop (their work items stay in the
                # store); wake their threads, or they would block forever on a clock nobody advances.
                release_sleepers(host.clock)
            _join_function_threads(timeout=5.0)
        finally:
            loop.close()
        if errors:
            raise errors[0]


def _join_function_threads(timeout: float) -> None:
    for thread in threading.enumerate():
        if thread.name.startswith(FUNCTION_THREAD_PREFIX) and thread is not threading.current_thread():
            thread.join(timeout)


@contextlib.contextmanager
def durable_app(
    app: AppRef | None = None,
    *,
    store_dir: str | os.PathLike[str] | None = None,
    start_time: datetime | None = None,
    workers: bool | None = None,
) -> Iterator[DurableAppHandle]:
    """Run an app in-process on a virtual clock for the ``with`` block; the pytest-free form of the fixture.

    ``app`` defaults to the current directory; ``store_dir`` to a temporary directory removed afterwards;
    ``start_time`` (timezone-aware) to the VirtualClock's default. ``workers=True`` runs the app's functions in
    language-worker processes, as ``python -m devhost`` does (default: in this process, or ``DEVHOST_WORKERS``).
    """
    app_dir = resolve_app_dir(app if app is not None else Path.cwd())
    session = AppSession()
    with contextlib.ExitStack() as stack:
        directory = (
            Path(store_dir)
            if store_dir is not None
            else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="devhost-")))
        )
        stack.callback(session.close)
        yield session.start(app_dir, store_dir=directory, start_time=start_time, workers=workers)
