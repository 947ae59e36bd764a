"""Printing tables: a rich table on a terminal, aligned plain text otherwise (pipes, files, CI logs)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


def is_terminal(out: TextIO) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def table(headers: Sequence[str], rows: list[Sequence[str]], out: TextIO | None = None, title: str | None = None) -> None:
    out = out or sys.stdout
    if is_terminal(out):
        from rich.console import Console
        from rich.table import Table

        grid = Table(title=title, header_style="bold")
        for header in headers:
            grid.add_column(header, overflow="fold")
        for row in rows:
            grid.add_row(*row)
        Console(file=out).print(grid)
        return
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    if title:
        print(title, file=out)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(), file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)


def as_json(value: Any, out: TextIO | None = None) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False), file=out or sys.stdout)


def short_time(iso: str | None) -> str:
    """``2026-11-28T00:59:10.123Z`` -> ``2026-11-28 00:59:10``."""
    if not iso:
        return ""
    return iso.replace("T", " ")[:19]
