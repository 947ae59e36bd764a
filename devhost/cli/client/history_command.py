"""``python -m devhost history ID``: the instance's history, read page by page, each event on one line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from devhost.cli.client import render
from devhost.cli.client.http import (
    ExitCode,
    HostClient,
    base_parser,
    check_url,
    quote,
    run,
)

COMMAND = "history"
PAGE = 500


def build_parser() -> argparse.ArgumentParser:
    parser = base_parser(
        COMMAND, "Show an instance's history (current execution): activities with inputs and results, timers, events."
    )
    parser.add_argument("instance_id", metavar="ID")
    parser.add_argument("--last", type=int, metavar="N", help="only the last N events")
    parser.add_argument("--json", action="store_true", help="print the events as JSON")
    return parser


def _detail(event: dict[str, Any]) -> str:
    parts: list[str] = []
    if event.get("state"):
        parts.append(str(event["state"]))
    if event.get("fireAt"):
        parts.append(f"due {render.short_time(event['fireAt'])}")
    if event.get("remainingSeconds") is not None:
        parts.append(f"{event['remainingSeconds']:.0f}s left")
    if event.get("subInstanceId"):
        parts.append(f"instance {event['subInstanceId']}")
    for key in ("input", "result", "reason", "details"):
        value = event.get(key)
        if value:
            parts.append(f"{key}={value['preview']}{'…' if value['size'] > len(value['preview']) else ''}")
    if event.get("failure"):
        parts.append(f"failure={event['failure']}")
    return " ".join(parts)


def body(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    check_url(parser, args.url)
    if args.last is not None and args.last < 1:
        parser.error(f"--last must be at least 1, got {args.last}")
    client = HostClient(args.url)
    path = f"/instances/{quote(args.instance_id)}/history"
    if args.last is not None and args.last <= PAGE:
        events: list[dict[str, Any]] = client.dashboard(path, {"last": args.last}, instance_id=args.instance_id)["events"]
        return _show(events, args.json)
    first = client.dashboard(path, {"offset": 0, "limit": 1}, instance_id=args.instance_id)
    total = int(first["total"])
    offset = max(0, total - args.last) if args.last else 0
    events = []
    while offset < total:
        page = client.dashboard(path, {"offset": offset, "limit": PAGE}, instance_id=args.instance_id)
        if not page["events"]:
            break
        events.extend(page["events"])
        offset += len(page["events"])
    return _show(events, args.json)


def _show(events: list[dict[str, Any]], as_json: bool) -> int:
    if as_json:
        render.as_json(events)
        return ExitCode.OK
    render.table(
        ["#", "TIME", "EVENT", "NAME", "DETAILS"],
        [[str(e["index"]), render.short_time(e.get("timestamp")), e["type"], e.get("name") or "", _detail(e)] for e in events],
    )
    return ExitCode.OK


def main(argv: Sequence[str]) -> int:
    return run(COMMAND, body, argv)
