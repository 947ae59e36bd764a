"""``python -m devhost status ID``: one instance's status (the Durable HTTP API's status payload)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from devhost.cli.client import render
from devhost.cli.client.http import ExitCode, HostClient, base_parser, check_url, run

COMMAND = "status"


def build_parser() -> argparse.ArgumentParser:
    parser = base_parser(COMMAND, "Show one instance's runtime status, custom status, input and output.")
    parser.add_argument("instance_id", metavar="ID")
    parser.add_argument("--json", action="store_true", help="print the status payload as JSON")
    return parser


def _text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) if isinstance(value, (dict, list)) else json.dumps(value)


def body(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    check_url(parser, args.url)
    status = HostClient(args.url).status(args.instance_id)
    if args.json:
        render.as_json(status)
        return ExitCode.OK
    for label, key in (
        ("Instance", "instanceId"),
        ("Orchestrator", "name"),
        ("Status", "runtimeStatus"),
        ("Created", "createdTime"),
        ("Updated", "lastUpdatedTime"),
    ):
        print(f"{label + ':':<14}{status.get(key)}")
    for label, key in (("Custom status", "customStatus"), ("Input", "input"), ("Output", "output")):
        print(f"{label + ':':<14}{_text(status.get(key))}")
    return ExitCode.OK


def main(argv: Sequence[str]) -> int:
    return run(COMMAND, body, argv)
