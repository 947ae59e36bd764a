"""``python -m devhost [--app-dir DIR] ...``: start the host for an app directory and serve until SIGINT/SIGTERM.

Startup problems (missing or broken app, busy port, locked store, bad host.json) print one line,
``devhost: error: ...``, and exit with status 1; bad flags are argparse's usage error (status 2).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from devhost.core.errors import DevhostError
from devhost.host.server import DevHost
from devhost.http.paths import WEBHOOK_BASE_PATH
from devhost.runtime import loglevels
from devhost.runtime.config import STORE_RELATIVE_PATH, load_host_settings, load_local_settings
from devhost.runtime.registry import FunctionRegistry

PROG = "devhost"
EXIT_STARTUP_ERROR = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {PROG}",
        description="Run a Python v2 Durable Functions app locally (SQLite store, real Durable HTTP API).",
        epilog="Subcommands: 'python -m devhost replay ...' replays stored orchestrations; list, status, history, watch, "
        "terminate, raise and purge talk to a running host (each has --help; see docs/dashboard.md).",
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="directory holding function_app.py, host.json, local.settings.json (default: .)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7071, help="port to listen on; 0 picks a free one (default: 7071)")
    store = parser.add_mutually_exclusive_group()
    store.add_argument(
        "--store", type=Path, metavar="PATH", help=f"SQLite store file (default: DIR/{STORE_RELATIVE_PATH.as_posix()})"
    )
    store.add_argument("--in-memory", action="store_true", help="keep all state in memory (lost on exit)")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the app's functions in the host process instead of language-worker processes "
        "(FUNCTIONS_WORKER_PROCESS_COUNT of them, default 1)",
    )
    return parser


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def banner(registry: FunctionRegistry, base_url: str, route_prefix: str) -> str:
    """The function list, in the spirit of ``func start``."""
    prefix = f"/{route_prefix}" if route_prefix else ""
    lines = ["", "Functions:", ""]
    for fn in registry.http:
        # No methods declared: Core Tools prints [GET,POST] (see docs/timer-triggers.md, "Banner").
        methods = f"[{','.join(fn.methods or ('GET', 'POST'))}] "
        route = f"/{fn.route.strip('/')}" if fn.route.strip("/") else ""
        lines += [f"        {fn.name}: {methods}{base_url}{prefix}{route}", ""]
    for kind, names in (
        ("orchestrationTrigger", registry.orchestrators),
        ("activityTrigger", registry.activities),
        ("entityTrigger", {e.name: e for e in registry.entities.values()}),
        ("timerTrigger", registry.timers),
    ):
        for name in names:
            lines += [f"        {name}: {kind}", ""]
    for skipped in registry.skipped:
        lines += [f"        {skipped.name}: {skipped.trigger} (not run: devhost does not support this trigger)", ""]
    lines.append(f"Dashboard: {base_url}/_devhost/")
    lines.append(f"Durable HTTP API: {base_url}{WEBHOOK_BASE_PATH}")
    return "\n".join(lines)


async def serve(args: argparse.Namespace, out: TextIO = sys.stdout) -> None:
    host = DevHost(
        args.app_dir, host=args.host, port=args.port, store_path=args.store, in_memory=args.in_memory, workers=not args.in_process
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C arrives as KeyboardInterrupt
            pass
    # host.json logging.logLevel from the first line on, as in the Functions host (the same files the host
    # reads next; a bad host.json is the same one-line startup error either way).
    load_local_settings(args.app_dir)
    loglevels.install(load_host_settings(args.app_dir, os.environ).log_levels)
    await host.start()
    try:
        assert host.registry is not None and host.settings is not None
        print(banner(host.registry, host.base_url, host.settings.route_prefix), file=out, flush=True)
        await stop.wait()
        logging.getLogger("devhost.server").info("Stopping (signal received)")
    finally:
        await host.stop()


def run(arguments: Sequence[str]) -> int:
    args = build_parser().parse_args(list(arguments))
    configure_logging()
    try:
        asyncio.run(serve(args))
    except DevhostError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_STARTUP_ERROR
    except KeyboardInterrupt:
        pass
    return 0
