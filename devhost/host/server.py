"""The host process shell: config + app + store + engine + management behind one aiohttp server.

``DevHost`` is what the CLI and the pytest plugin run. ``start()`` reads local.settings.json and host.json,
indexes the app, opens the store, starts the engine and listens; ``stop()`` shuts down in the reverse
order so every committed turn is on disk and the SDK's shared HTTP session is closed (it is a module
global of ``azure.durable_functions.models.utils.http_utils``; leaving it open would bind it, and its
lock, to a loop that a later host in the same process does not run on).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

import devhost
from devhost.clock import Clock, RealClock
from devhost.core.errors import AppLoadError, DevhostError, StartupError
from devhost.http import links
from devhost.http.application import build_application
from devhost.http.cors import is_loopback_name
from devhost.http.limits import HttpLimits, runner_options
from devhost.http.paths import RPC_BASE_PATH, WEBHOOK_BASE_PATH
from devhost.http.reads import ReusedBufferSite
from devhost.runtime.config import HostSettings, default_store_path, load_host_settings, load_local_settings
from devhost.runtime.engine import Engine
from devhost.runtime.invoker import Invoker
from devhost.runtime.loader import load_app
from devhost.runtime.notifications import Notifier
from devhost.runtime.registry import FunctionRegistry
from devhost.runtime.timer_triggers import ScheduleStatusFile, TimerScheduler, status_path_for
from devhost.runtime.worker.indexing import index_for_workers
from devhost.runtime.worker.pool import WorkerInvoker
from devhost.runtime.worker.process import WorkerLoadFailed
from devhost.service.management import Management
from devhost.store.base import Store
from devhost.store.memory import MemoryStore
from devhost.store.sqlite import SqliteStore

log = logging.getLogger("devhost.server")


_LOOPBACK_HOSTS = {"", "0.0.0.0", "::", "localhost", "127.0.0.1"}


def rpc_base_url(host: str, port: int) -> str:
    """Where the SDK client in HTTP functions sends its calls (must end with "/", protocol §3.1)."""
    if host in _LOOPBACK_HOSTS:
        return f"http://127.0.0.1:{port}{RPC_BASE_PATH}/"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{RPC_BASE_PATH}/"


async def _reset_sdk_http_session(close: bool) -> None:
    """Give the SDK's module-level client session a fresh lock; close (or drop) the session itself."""
    from azure.durable_functions.models.utils import http_utils

    session = http_utils._client_session
    http_utils._session_lock = asyncio.Lock()
    if session is not None and not session.closed:
        if close and getattr(session, "_loop", None) is asyncio.get_running_loop():
            await http_utils._close_session()
        else:
            # Created on another (possibly closed) loop: it cannot be closed from here; forget it.
            http_utils._client_session = None
    http_utils._session_lock = asyncio.Lock()


T = TypeVar("T")


def _started(part: T | None) -> T:
    if part is None:
        raise RuntimeError("the host is not started (call start() first)")
    return part


class DevHost:
    """A running local Functions host for one app directory."""

    def __init__(
        self,
        app_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 7071,
        store_path: Path | None = None,
        in_memory: bool = False,
        clock: Clock | None = None,
        registry: FunctionRegistry | None = None,
        settings: HostSettings | None = None,
        shutdown_timeout: float = 10.0,
        workers: bool = False,
        http_limits: HttpLimits | None = None,
    ) -> None:
        self.app_dir = Path(app_dir).resolve()
        self.host = host
        self.port = port
        self.in_memory = in_memory
        self.store_path = None if in_memory else Path(store_path or default_store_path(self.app_dir))
        self.clock: Clock = clock or RealClock()
        self.registry = registry
        self.settings = settings
        self.shutdown_timeout = shutdown_timeout
        self.workers = workers
        """Run the app's functions in language-worker processes (``FUNCTIONS_WORKER_PROCESS_COUNT`` of them), as
        the Functions host does, rather than in this process. Needs the app loaded from ``app_dir`` (no ``registry``)."""
        self.http_limits = http_limits
        self.state = "Initialized"
        self._store: Store | None = None
        self.invoker: Invoker | None = None
        self._engine: Engine | None = None
        self._management: Management | None = None
        self._runner: web.AppRunner | None = None
        self._socket: socket.socket | None = None
        self._engine_started = False
        self.notifier: Notifier | None = None
        """The lifecycle-notification sender, when host.json configures notifications.eventGrid."""
        self.timers: TimerScheduler | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` as bound (the real port when started with port 0)."""
        host = "127.0.0.1" if self.host in _LOOPBACK_HOSTS else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def store(self) -> Store:
        """The open store (between ``start()`` and ``stop()``)."""
        return _started(self._store)

    @property
    def engine(self) -> Engine:
        """The running engine (from ``start()`` on)."""
        return _started(self._engine)

    @property
    def management(self) -> Management:
        """Instance management over the store (from ``start()`` on)."""
        return _started(self._management)

    def status(self) -> dict[str, Any]:
        hub = self.settings.hub_name if self.settings is not None else None
        return {"state": self.state, "version": devhost.__version__, "hub": hub}

    async def start(self) -> None:
        """Load, open, bind, run. Raises StartupError (one-line message) when the host cannot start."""
        try:
            await self._start()
        except BaseException:
            await self._shutdown()
            raise

    async def _start(self) -> None:
        load_local_settings(self.app_dir)
        if self.settings is None:
            self.settings = load_host_settings(self.app_dir, os.environ)
        registry_given = self.registry is not None
        if self.registry is None:  # with workers, the app's own telemetry runs in them only
            self.registry = index_for_workers(self.app_dir) if self.workers else load_app(self.app_dir)
        # Bind before opening the store and building the rest: a busy port fails fast and cheaply.
        self._socket = self._bind()
        await _reset_sdk_http_session(close=False)

        store = self._store = self._open_store()
        # Room for every activity the engine may run at once, plus sync HTTP functions.
        max_threads = self.settings.max_concurrent_activities + 32
        invoker: Invoker
        if self.workers and not registry_given:
            invoker = WorkerInvoker(
                self.clock,
                self.registry,
                app_dir=self.app_dir,
                processes=self.settings.worker_process_count,
                function_timeout=self.settings.function_timeout,
                max_threads=max_threads,
            )
        else:
            invoker = Invoker(self.clock, max_threads=max_threads, app_dir=self.app_dir)
        self.invoker = invoker
        try:
            await invoker.start()
        except WorkerLoadFailed as exc:
            raise AppLoadError(str(exc)) from None
        grid = self.settings.event_grid
        notifier = self.notifier = None if grid is None else Notifier(store, self.clock, grid, self.settings.hub_name)
        engine = self._engine = Engine(store, self.clock, self.registry, self.settings, invoker, notifier=notifier)
        management = self._management = Management(
            store,
            self.clock,
            self.registry,
            engine.notify,
            hub_name=self.settings.hub_name,
            default_version=self.settings.default_version,
        )
        app = build_application(
            registry=self.registry,
            invoker=invoker,
            management=management,
            settings=self.settings,
            rpc_base=lambda: rpc_base_url(self.host, self.port),
            status=self.status,
            http_limits=self.http_limits,
            loopback_only=is_loopback_name(self.host),
        )
        await self._listen(app)
        # Activities and timer functions declaring a durable client get the binding for this host (before the
        # engine starts: it may resume activities at once).
        invoker.client_binding_json = self.client_binding_json
        await engine.start()
        self._engine_started = True
        if notifier is not None:
            await notifier.start()
            log.info("Lifecycle notifications go to %s", notifier.settings.topic_endpoint)
        self.timers = TimerScheduler(
            self.registry.timers, self.clock, invoker.call_timer, ScheduleStatusFile(status_path_for(self.store_path))
        )
        await self.timers.start()
        self.state = "Running"
        log.info("Host started (hub %s) on %s", self.settings.hub_name, self.base_url)

    def client_binding_json(self) -> str:
        """The durableClient binding value for functions not triggered by a request (links to this host)."""
        assert self.settings is not None
        return links.client_binding_json(
            self.base_url + WEBHOOK_BASE_PATH, rpc_base_url(self.host, self.port), self.settings.hub_name
        )

    def _open_store(self) -> Store:
        if self.store_path is None:  # in_memory
            return MemoryStore()
        try:
            self.store_path.parent.mkdir(parents=True, exist_ok=True)
            return SqliteStore(self.store_path)
        except DevhostError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise StartupError(f"cannot open store {self.store_path}: {exc}") from None

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            sock = socket.create_server((self.host, self.port), family=family, backlog=128)
        except OSError as exc:
            # create_server re-raises with "(while attempting to bind on address ...)" appended; drop it.
            reason = (exc.strerror or str(exc)).split(" (while attempting")[0]
            raise StartupError(f"cannot listen on {self.host}:{self.port}: {reason}") from None
        self.port = int(sock.getsockname()[1])  # the real one when asked for port 0
        return sock

    async def _listen(self, app: web.Application) -> None:
        assert self._socket is not None
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.shutdown_timeout, **runner_options(app))
        await runner.setup()
        self._runner = runner
        sock, self._socket = self._socket, None
        await ReusedBufferSite(runner, sock).start()

    async def stop(self) -> None:
        """Graceful: stop accepting requests (in-flight ones finish), drain the engine, close everything."""
        if self.state in ("Stopped", "Initialized") and self._runner is None:
            return
        self.state = "Stopping"
        await self._shutdown()
        log.info("Host stopped")

    async def _shutdown(self) -> None:
        if self._socket is not None:  # bound, but start() failed before serving on it
            self._socket.close()
            self._socket = None
        if self.timers is not None:
            timers, self.timers = self.timers, None
            await timers.stop()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._engine is not None and self._engine_started:
            self._engine_started = False
            await self._engine.stop()
        if self.notifier is not None:
            notifier, self.notifier = self.notifier, None
            await notifier.stop()
        if self.invoker is not None:
            await self.invoker.aclose()
            self.invoker.close()
        await _reset_sdk_http_session(close=True)
        if self._store is not None:
            store, self._store = self._store, None
            store.close()
        self.state = "Stopped"

    async def __aenter__(self) -> DevHost:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
