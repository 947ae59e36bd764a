"""Subcommand dispatch for ``python -m devhost``.

No subcommand runs the host (:mod:`devhost.cli.serve`). Each subcommand lives in its own module, imported
only when used, so a client command does not pay for importing the host (aiohttp app, SDK, store).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS: dict[str, str] = {
    "replay": "devhost.cli.replay",
    "list": "devhost.cli.client.list_command",
    "status": "devhost.cli.client.status_command",
    "history": "devhost.cli.client.history_command",
    "watch": "devhost.cli.client.watch_command",
    "terminate": "devhost.cli.client.terminate_command",
    "raise": "devhost.cli.client.raise_command",
    "purge": "devhost.cli.client.purge_command",
}
"""Subcommand name -> module with ``main(argv) -> int``."""

HOST_COMMAND = "devhost.cli.serve"


def main(argv: Sequence[str] | None = None) -> int:
    arguments: list[str] = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] and arguments[0] in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[arguments[0]])
        return int(module.main(arguments[1:]) or 0)
    return int(importlib.import_module(HOST_COMMAND).run(arguments))
