"""``python -m devhost``: the command line. :mod:`devhost.cli.main` picks the subcommand."""

from devhost.cli.main import main

__all__ = ["main"]
