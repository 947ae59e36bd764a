"""``python -m devhost terminate ID [--reason TEXT]``: terminate a running instance (public API, 202)."""

from __future__ import annotations

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

COMMAND = "terminate"


def body(argv: Sequence[str]) -> int:
    parser = base_parser(COMMAND, "Terminate a running instance (it shows Terminated once the host processed it).")
    parser.add_argument("instance_id", metavar="ID")
    parser.add_argument("--reason", default="terminated from the devhost CLI", help="the reason recorded in the history")
    args = parser.parse_args(list(argv))
    check_url(parser, args.url)
    client = HostClient(args.url)
    return act(
        client,
        "terminate requested",
        args.instance_id,
        "POST",
        f"{WEBHOOKS}/instances/{quote(args.instance_id)}/terminate",
        {"reason": args.reason},
    )


def main(argv: Sequence[str]) -> int:
    return run(COMMAND, body, argv)
