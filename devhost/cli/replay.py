"""``python -m devhost replay``: replay recorded orchestration histories against the current code.

Prints one line per instance (``OK``, ``FAIL`` with the first diverging decision, ``SKIP``, ``ERROR``) and a
summary. Exit status: 0 when everything replayed matches, 1 when any instance diverges, 2 for usage and
input errors (bad flags, no such file, a broken app, a store in use, an unreadable recording) when nothing
diverged. Messages are single lines; no tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from devhost.core.errors import DevhostError
from devhost.replay.check import check
from devhost.replay.model import STATUS_TIME_TOLERANCE, Recording, ReplayResult
from devhost.replay.sources import LoadError, load_paths, load_store, open_target
from devhost.runtime.config import STORE_RELATIVE_PATH, default_store_path

PROG = "python -m devhost replay"
EXIT_OK, EXIT_MISMATCH, EXIT_USAGE = 0, 1, 2


class _Usage(Exception):
    """A usage or input problem that stops the run before anything is replayed."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Replay recorded orchestration histories against the current orchestrator code and report "
        "whether each one still makes the same decisions (activities, timers, sub-orchestrations, "
        "completion).",
        epilog="History files: saved recordings ({name, instanceId, input, history}), raw history lists, or "
        "status documents from GET .../instances/{id}?showHistory=true&showHistoryOutput=true. "
        f"Without PATH or --store, the app's default store (DIR/{STORE_RELATIVE_PATH.as_posix()}) is replayed. "
        "Exit status: 0 all match, 1 a mismatch, 2 usage or input errors.",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="history JSON files, or directories searched for *.json"
    )
    parser.add_argument(
        "--app-dir", type=Path, default=Path("."), metavar="DIR", help="directory holding function_app.py (default: .)"
    )
    parser.add_argument(
        "--store",
        type=Path,
        metavar="PATH",
        help="replay every instance of this devhost store file (not while a devhost uses it)",
    )
    parser.add_argument("--instance", action="append", default=[], metavar="ID", help="only this instance id (repeatable)")
    parser.add_argument(
        "--time-tolerance",
        type=float,
        default=STATUS_TIME_TOLERANCE.total_seconds(),
        metavar="SECONDS",
        help="status documents only: slack when matching times rebuilt from the document "
        f"(default: {STATUS_TIME_TOLERANCE.total_seconds():g})",
    )
    return parser


def main(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(list(argv))
    except SystemExit as exit_:  # argparse has printed usage (or --help)
        return int(exit_.code or 0)
    if args.time_tolerance < 0:
        print(f"{PROG}: error: --time-tolerance must not be negative", file=err)
        return EXIT_USAGE
    try:
        recordings, errors = _recordings(args)
        target = open_target(args.app_dir)
    except (_Usage, DevhostError) as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return EXIT_USAGE
    tolerance = timedelta(seconds=args.time_tolerance)
    results: list[ReplayResult] = []
    for error in errors:
        print(f"ERROR {error}", file=out)
    for recording in recordings:
        with _app_logs_silenced():
            result = check(recording, target, time_tolerance=tolerance)
        results.append(result)
        print(_line(result), file=out, flush=True)
    print(summary(results, len(errors)), file=out)
    return exit_status(results, len(errors))


@contextlib.contextmanager
def _app_logs_silenced() -> Iterator[None]:
    # Replay re-runs every episode as new, so the app's "not replaying" log lines would all print again.
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


def _recordings(args: argparse.Namespace) -> tuple[list[Recording], list[LoadError]]:
    store: Path | None = args.store
    if store is None and not args.paths:
        store = default_store_path(args.app_dir)
        if not store.is_file():
            raise _Usage(f"nothing to replay: give history files or --store (no store at {store})")
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise _Usage(f"no such file or directory: {', '.join(missing)}")
    recordings, errors = load_paths(args.paths)
    if store is not None:
        recordings += load_store(store, args.instance or None)
    if args.instance:
        wanted = set(args.instance)
        recordings = [r for r in recordings if r.instance_id in wanted]
        if not recordings and not errors:
            raise _Usage(f"no recording of instance {', '.join(args.instance)}")
    return recordings, errors


def _line(result: ReplayResult) -> str:
    line = result.line()
    if result.source and not result.ok:
        line += f"  [{result.source}]"
    return line


def summary(results: Sequence[ReplayResult], load_errors: int = 0) -> str:
    ok = sum(1 for r in results if r.ok and r.skipped is None)
    failed = sum(1 for r in results if r.mismatch is not None)
    skipped = sum(1 for r in results if r.skipped is not None)
    errors = load_errors + sum(1 for r in results if r.error is not None)
    return f"{len(results)} replayed: {ok} OK, {failed} FAIL, {skipped} skipped, {errors} errors"


def exit_status(results: Sequence[ReplayResult], load_errors: int = 0) -> int:
    if any(r.mismatch is not None for r in results):
        return EXIT_MISMATCH
    if load_errors or any(r.error is not None for r in results):
        return EXIT_USAGE
    return EXIT_OK
