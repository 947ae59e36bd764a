"""``python -m devhost list``: the host's instances, filtered (the dashboard list's filters, as flags)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from devhost.cli.client import render
from devhost.cli.client.http import ExitCode, HostClient, base_parser, check_url, run

COMMAND = "list"


def build_parser() -> argparse.ArgumentParser:
    parser = base_parser(COMMAND, "List orchestration instances (oldest first), with filters.")
    parser.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="STATUS",
        help="runtime status (Running, Pending, Completed, Failed, Terminated, Suspended, ...); repeat or comma-separate",
    )
    parser.add_argument("--failed", action="store_true", help="failed only (same as --status Failed)")
    parser.add_argument("--name", help="orchestrator name (case-insensitive)")
    parser.add_argument("--prefix", help="instance id prefix")
    parser.add_argument("--created-from", metavar="TIME", help="created at or after (ISO 8601, UTC when no offset)")
    parser.add_argument("--created-to", metavar="TIME", help="created at or before (ISO 8601)")
    parser.add_argument("--contains", metavar="TEXT", help="custom status contains TEXT (case-insensitive)")
    parser.add_argument(
        "--waiting",
        choices=("timer", "activity", "suborchestration"),
        help="only running instances waiting on that (e.g. a durable timer)",
    )
    parser.add_argument("--top", type=int, default=50, help="page size, 1-500 (default 50)")
    parser.add_argument("--all", action="store_true", help="follow every page, not only the first")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    return parser


def body(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    check_url(parser, args.url)
    if not 1 <= args.top <= 500:
        parser.error(f"--top must be between 1 and 500, got {args.top}")
    statuses = [part for value in args.status for part in value.split(",") if part.strip()] + (["Failed"] if args.failed else [])
    params: dict[str, Any] = {"top": args.top}
    if statuses:
        params["status"] = ",".join(statuses)
    for key, value in (
        ("name", args.name),
        ("prefix", args.prefix),
        ("from", args.created_from),
        ("to", args.created_to),
        ("q", args.contains),
        ("waiting", args.waiting),
    ):
        if value:
            params[key] = value
    client = HostClient(args.url)
    rows: list[dict[str, Any]] = []
    while True:
        page = client.dashboard("/instances", params)
        rows.extend(page["instances"])
        if not args.all or not page.get("nextCursor"):
            break
        params["cursor"] = page["nextCursor"]
    if args.json:
        render.as_json(rows)
        return ExitCode.OK
    render.table(
        ["INSTANCE", "ORCHESTRATOR", "STATUS", "CREATED", "UPDATED", "CUSTOM STATUS"],
        [
            [
                r["instanceId"],
                r["name"],
                r["runtimeStatus"],
                render.short_time(r["createdTime"]),
                render.short_time(r["lastUpdatedTime"]),
                r["customStatusSummary"],
            ]
            for r in rows
        ],
    )
    if not args.all and page.get("nextCursor"):
        print("(more instances: add --all, or narrow the filters)")
    return ExitCode.OK


def main(argv: Sequence[str]) -> int:
    return run(COMMAND, body, argv)
