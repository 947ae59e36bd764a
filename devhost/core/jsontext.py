"""JSON text as the extension writes it (compact, non-ASCII kept), always encodable as UTF-8.

JSON may carry a lone surrogate escaped (``"\\ud800"``): legal JSON and a legal .NET string, which Newtonsoft reads
and writes back. ``json.loads`` keeps it as a lone code point, which UTF-8 — the store's text, the wire — cannot
encode. Outside string literals JSON text is ASCII, so putting each such code point back as its ``\\u`` escape gives
text that parses to the same value and encodes everywhere.
"""

from __future__ import annotations

import json
import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_lone_surrogates(text: str) -> str:
    """``text`` (JSON) with every surrogate code point written as its ``\\uXXXX`` escape."""
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def compact(value: Any) -> str:
    """Newtonsoft style: compact separators, non-ASCII kept as is, lone surrogates escaped."""
    return escape_lone_surrogates(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
