"""``python -m devhost watch ID``: follow an instance until it ends; the exit code says how it ended.

On a terminal a rich progress bar follows the custom status (``progress_percent``, ``check_count``,
``alerts``: the monitoring app's fields; other apps get a spinner and their runtime status). Not on a
terminal, one plain line per change. The result line and exit code (:class:`ExitCode`): 0 Completed,
1 Failed, 3 Terminated/Canceled, 4 not found, 5 the monitor's result is Timeout, 6 ``--timeout`` ran out,
7 host unreachable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TextIO

from devhost.cli.client import render
from devhost.cli.client.http import ExitCode, HostClient, base_parser, check_url, run
from devhost.clock import RealClock

COMMAND = "watch"
TERMINAL = frozenset({"Completed", "Failed", "Terminated", "Canceled"})


def build_parser() -> argparse.ArgumentParser:
    parser = base_parser(COMMAND, "Follow an instance until it ends (exit 0 only when it Completed).")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "exit codes: 0 Completed; 1 Failed (or the monitored job failed); 3 Terminated/Canceled; 4 no such instance;\n"
        "5 the monitor's result is Timeout; 6 --timeout ran out; 7 host unreachable; 2 bad arguments"
    )
    parser.add_argument("instance_id", metavar="ID")
    parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS", help="poll every SECONDS (default 1)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="give up (exit 6) after SECONDS of waiting")
    parser.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    return parser


def outcome(status: dict[str, Any]) -> tuple[ExitCode, str]:
    """The exit code of a finished instance, and the words for it."""
    runtime = status.get("runtimeStatus")
    output = status.get("output")
    final = output.get("final_status") if isinstance(output, dict) else None
    if runtime == "Completed":
        if final == "Timeout":
            return ExitCode.TIMED_OUT_RESULT, "Completed, but the monitored job timed out (final_status Timeout)"
        if final == "Failed":
            return ExitCode.FAILED, "Completed, but the monitored job failed (final_status Failed)"
        return ExitCode.OK, "Completed" + (f" (final_status {final})" if final else "")
    if runtime == "Failed":
        return ExitCode.FAILED, f"Failed: {_short(output)}"
    return ExitCode.TERMINATED, f"{runtime}" + (f": {_short(output)}" if output else "")


def describe(status: dict[str, Any]) -> tuple[float | None, str]:
    """(progress percent or None, the one-line state) from a status payload."""
    custom = status.get("customStatus")
    parts: list[str] = [str(status.get("runtimeStatus"))]
    percent: float | None = None
    if isinstance(custom, dict):
        if custom.get("status") is not None:
            parts.append(f"job {custom['status']}")
        if isinstance(custom.get("check_count"), int):
            parts.append(f"check {custom['check_count']}")
        value = custom.get("progress_percent")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            percent = max(0.0, min(100.0, float(value)))
        alerts = custom.get("alerts")
        if isinstance(alerts, list) and alerts:
            names = ", ".join(f"{a.get('name')} ({a.get('severity')})" for a in alerts if isinstance(a, dict))
            parts.append(f"alerts: {names}")
    elif custom is not None:
        parts.append(_short(custom))
    return percent, " · ".join(parts)


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PlainView:
    def __init__(self, instance_id: str, out: TextIO) -> None:
        self.instance_id, self.out, self.last = instance_id, out, ""

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, percent: float | None, line: str) -> None:
        text = f"{self.instance_id}: {line}" + (f" · {percent:.0f}%" if percent is not None else "")
        if text != self.last:
            print(text, file=self.out, flush=True)
            self.last = text


class RichView:
    def __init__(self, instance_id: str, out: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[line]}"),
            console=Console(file=out),
        )
        self.task = self.progress.add_task(instance_id, total=None, line="")

    def __enter__(self) -> RichView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, percent: float | None, line: str) -> None:
        if percent is None:
            self.progress.update(self.task, total=None, line=line)
        else:
            self.progress.update(self.task, total=100, completed=percent, line=line)


def body(argv: Sequence[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(list(argv))
    check_url(parser, args.url)
    if not args.interval > 0:
        parser.error(f"--interval must be positive, got {args.interval}")
    if args.timeout is not None and not args.timeout > 0:
        parser.error(f"--timeout must be positive, got {args.timeout}")
    client, clock = HostClient(args.url), RealClock()
    deadline = clock.now() + timedelta(seconds=args.timeout) if args.timeout is not None else None
    status = client.status(args.instance_id, show_input=False)  # NOT_FOUND before drawing anything
    view = RichView(args.instance_id, out) if render.is_terminal(out) and not args.plain else PlainView(args.instance_id, out)
    with view:
        while True:
            view.update(*describe(status))
            if status.get("runtimeStatus") in TERMINAL:
                break
            now = clock.now()
            if deadline is not None and now >= deadline:
                print(
                    f"{args.instance_id}: still {status.get('runtimeStatus')} after {args.timeout:g}s; stopped watching", file=out
                )
                return ExitCode.WATCH_TIMEOUT
            wait = args.interval if deadline is None else min(args.interval, (deadline - now).total_seconds())
            clock.sleep_blocking(max(wait, 0.0))
            status = client.status(args.instance_id, show_input=False)
    code, words = outcome(status)
    print(f"{args.instance_id}: {words} (exit {int(code)})", file=out, flush=True)
    return code


def main(argv: Sequence[str]) -> int:
    return run(COMMAND, body, argv)
