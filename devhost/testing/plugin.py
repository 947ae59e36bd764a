"""The pytest plugin, registered as ``devhost`` through the ``pytest11`` entry point (``pip install devhost``).

Fixtures:

- ``durable_app`` — a factory (:class:`~devhost.testing.handle.DurableAppFactory`). ``durable_app()`` starts
  the default app, ``durable_app("path/to/app")`` (a directory, its ``function_app.py``, or a dotted
  ``function_app`` module; relative paths from the rootdir) another one, in-process on a VirtualClock with a
  SQLite store under the test's ``tmp_path``, and returns a
  :class:`~devhost.testing.handle.DurableAppHandle`. Everything started is stopped when the test ends (hosts,
  port, loop thread, function threads). With ``DEVHOST_TARGET_URL`` set, it returns a
  :class:`~devhost.testing.remote.RemoteAppHandle` bound to that URL instead (a real ``func start`` host).
- ``durable_app_dir`` — the default app directory: the ``devhost_app`` ini option (rootdir-relative), else
  the rootdir. Override it in a conftest.py to point elsewhere.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from devhost.core.errors import DevhostError
from devhost.testing.handle import AppHandle, AppRef, DurableAppFactory
from devhost.testing.local import AppSession, resolve_app_dir
from devhost.testing.remote import TARGET_URL_VARIABLE, RemoteAppHandle

INI_APP = "devhost_app"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_APP,
        "app that durable_app() starts by default (directory, function_app.py or module; "
        "relative to the rootdir). Default: the rootdir.",
        default="",
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    target = os.environ.get(TARGET_URL_VARIABLE)
    return f"devhost: durable_app targets {target} ({TARGET_URL_VARIABLE})" if target else None


@pytest.fixture
def durable_app_dir(request: pytest.FixtureRequest) -> Path:
    """The directory ``durable_app()`` starts when called without an app."""
    root = Path(str(request.config.rootpath))
    configured = str(request.config.getini(INI_APP) or "").strip()
    if not configured:
        return root
    try:
        return resolve_app_dir(configured, base=root)
    except DevhostError as exc:
        raise pytest.UsageError(f"ini option {INI_APP} = {configured!r}: {exc}") from None


@pytest.fixture
def durable_app(durable_app_dir: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[DurableAppFactory]:
    """Start apps for this test: ``app = durable_app()``; see :mod:`devhost.testing.plugin`."""
    target = os.environ.get(TARGET_URL_VARIABLE, "").strip()
    if target:

        def remote(app: AppRef | None = None, *, start_time: datetime | None = None, workers: bool | None = None) -> AppHandle:
            return RemoteAppHandle(target)  # the remote host serves its own app on its own clock

        yield remote
        return

    root = Path(str(request.config.rootpath))
    session = AppSession()
    numbers = itertools.count(1)

    def start(app: AppRef | None = None, *, start_time: datetime | None = None, workers: bool | None = None) -> AppHandle:
        where = durable_app_dir if app is None else app
        try:
            app_dir = resolve_app_dir(where, base=root)
            store_dir = tmp_path / f"devhost-{next(numbers)}"
            store_dir.mkdir()
            return session.start(app_dir, store_dir=store_dir, start_time=start_time, workers=workers)
        except DevhostError as exc:
            hint = (
                (
                    f" (the default app is the rootdir; pass durable_app('path/to/app'), set the {INI_APP} "
                    f"ini option or override the durable_app_dir fixture)"
                )
                if app is None
                else ""
            )
            pytest.fail(f"durable_app({'' if app is None else repr(app)}): {exc}{hint}", pytrace=False)

    try:
        yield start
    finally:
        session.close()
