"""``python -m devhost purge ID``: delete an instance and its history (public API DELETE, 200)."""

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

COMMAND = "purge"


def body(argv: Sequence[str]) -> int:
    parser = base_parser(COMMAND, "Delete an instance, its history and its pending work.")
    parser.add_argument("instance_id", metavar="ID")
    args = parser.parse_args(list(argv))
    check_url(parser, args.url)
    client = HostClient(args.url)
    return act(client, "purged", args.instance_id, "DELETE", f"{WEBHOOKS}/instances/{quote(args.instance_id)}", ok=200)


def main(argv: Sequence[str]) -> int:
    return run(COMMAND, body, argv)
