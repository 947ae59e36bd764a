"""The pytest plugin (registered through the ``pytest11`` entry point as ``devhost``).

Fixtures:
- ``durable_app``: a factory. ``durable_app()`` starts the project's app (pytest's rootdir), or
  ``durable_app("path/to/app")`` another one, in-process on a VirtualClock with a SQLite store under
  ``tmp_path``, and returns a :class:`~devhost.testing.handle.DurableAppHandle`. Everything it started is
  stopped at the end of the test.
- ``durable_app_dir``: the default app directory (override it in a conftest to point elsewhere).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Union

import pytest

from devhost.testing.handle import DurableAppHandle
from devhost.testing.loop import LoopThread

AppFactory = Callable[..., DurableAppHandle]


@pytest.fixture
def durable_app_dir(request: pytest.FixtureRequest) -> Path:
    return Path(str(request.config.rootpath))


@pytest.fixture
def durable_app(durable_app_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppFactory]:
    from devhost.clock import VirtualClock
    from devhost.server import DevHost

    loop = LoopThread()
    hosts: List[DevHost] = []

    def start(app_dir: Union[str, Path, None] = None, *, start_time: Optional[datetime] = None) -> DurableAppHandle:
        directory = Path(app_dir) if app_dir is not None else durable_app_dir
        store = tmp_path_factory.mktemp("devhost-store") / "store.sqlite3"
        host = DevHost(app_dir=directory, host="127.0.0.1", port=0, store_path=store, clock=VirtualClock(start_time))
        loop.run(host.start(), timeout=60)
        hosts.append(host)
        return DurableAppHandle(host, loop)

    try:
        yield start
    finally:
        for host in reversed(hosts):
            loop.run(host.stop(), timeout=60)
        loop.close()
