"""Testing Durable Functions apps on devhost: a pytest plugin with a time-skipping app fixture.

With devhost installed, pytest loads the plugin by itself (entry point ``pytest11``: ``devhost``).
``durable_app()`` (the factory fixture) starts an app in-process on a VirtualClock with a SQLite store in
``tmp_path`` and returns a :class:`DurableAppHandle`:

- ``handle.http`` — a synchronous HTTP client bound to ``handle.base_url`` (the app's routes, the Durable API);
- ``start``, ``status``, ``raise_event``, ``terminate``, ``purge`` — the Durable HTTP API;
- ``wait_for_completion`` / ``wait_for_status`` — wait while virtual time skips to the next timer whenever
  the host is idle, so hours of durable timers pass without real waiting;
- ``advance(seconds)`` and ``now`` — explicit control of virtual time;
- ``run_while_time_skips(call)`` — run a blocking call (an HTTP request that waits on the host's clock) while
  virtual time skips until it returns;
- ``history``, ``stub_activity`` and ``run_on_host(coroutine)`` (drive the host's own objects on its loop) —
  in-process only.

Outside pytest, ``with devhost.testing.durable_app("path/to/app") as app:`` does the same.
Setting ``DEVHOST_TARGET_URL`` makes the fixture return an HTTP-only handle for a real host instead.
"""

from devhost.testing.handle import ActivityStub, AppHandle, AppRef, DurableAppFactory, Status
from devhost.testing.http import HttpClient, HttpResponse
from devhost.testing.inprocess import DurableAppHandle
from devhost.testing.local import durable_app, resolve_app_dir
from devhost.testing.remote import TARGET_URL_VARIABLE, RemoteAppHandle

__all__ = [
    "ActivityStub",
    "AppHandle",
    "AppRef",
    "DurableAppFactory",
    "DurableAppHandle",
    "HttpClient",
    "HttpResponse",
    "RemoteAppHandle",
    "Status",
    "TARGET_URL_VARIABLE",
    "durable_app",
    "resolve_app_dir",
]
