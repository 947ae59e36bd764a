"""``python -m devhost raise ID EVENT [--data JSON]``: send an external event (public API raiseEvent, 202)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from devhost.cli.client.actions import act
from devhost.cli.client.http import (
    WEBHOOKS,
    HostClient,
    base_parser,
    check_url,
    quote,
    run,
)

COMMAND = "raise"


def body(argv: Sequence[str]) -> int:
    parser = base_parser(COMMAND, "Raise an external event on a running instance.")
    parser.add_argument("instance_id", metavar="ID")
    parser.add_argument("event", metavar="EVENT", help="the event name the orchestrator waits for")
    parser.add_argument("--data", default="null", metavar="JSON", help="the event's data as JSON (default: null)")
    args = parser.parse_args(list(argv))
    check_url(parser, args.url)
    if not args.event.strip():
        parser.error("EVENT must not be empty")
    try:
        json.loads(args.data)
    except ValueError as exc:
        parser.error(f"--data is not valid JSON: {exc}")
    client = HostClient(args.url)
    return act(
        client,
        f"event {args.event!r} raised",
        args.instance_id,
        "POST",
        f"{WEBHOOKS}/instances/{quote(args.instance_id)}/raiseEvent/{quote(args.event)}",
        body=args.data.encode(),
    )


def main(argv: Sequence[str]) -> int:
    return run(COMMAND, body, argv)
