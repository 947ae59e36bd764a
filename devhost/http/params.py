"""Reading Durable HTTP API requests: query values the way the extension parses them, and capped JSON bodies.

The extension reads the query through a case-insensitive ``NameValueCollection`` and .NET ``TryParse``
helpers (API notes B.1): a value that does not parse is treated as absent and the default applies —
never an error. Bodies are read here with a size cap so a huge upload cannot exhaust memory.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from devhost.core.errors import BadRequest
from devhost.core.model import RuntimeStatus
from devhost.http.errors import BodyTooLarge, InvalidJsonContent

MAX_BODY_BYTES = 16 * 1024 * 1024

# OrchestrationRuntimeStatus numbers, which Enum.TryParse also accepts (Unknown = -1 has no devhost status).
_STATUS_BY_NUMBER = {
    0: RuntimeStatus.RUNNING,
    1: RuntimeStatus.COMPLETED,
    2: RuntimeStatus.CONTINUED_AS_NEW,
    3: RuntimeStatus.FAILED,
    4: RuntimeStatus.CANCELED,
    5: RuntimeStatus.TERMINATED,
    6: RuntimeStatus.PENDING,
    7: RuntimeStatus.SUSPENDED,
}
_STATUS_BY_NAME = {s.value: s for s in RuntimeStatus}
_INT_RE = re.compile(r"^\s*[+-]?\d+\s*$")
_FLOAT_RE = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_INT32_MAX = 2**31 - 1
_MAX_TIMESPAN_SECONDS = 922_337_203_685.0  # TimeSpan.MaxValue; beyond it FromSeconds overflows


def query_values(request: web.Request, name: str) -> list[str]:
    """Every value of query parameter ``name``, matching the key case-insensitively."""
    wanted = name.lower()
    return [value for key, value in request.query.items() if key.lower() == wanted]


def query_value(request: web.Request, name: str) -> str | None:
    """``NameValueCollection[name]``: None if absent, repeated values joined with commas."""
    values = query_values(request, name)
    return ",".join(values) if values else None


def parse_bool(text: str | None, default: bool) -> bool:
    """``bool.TryParse``: "true"/"false" in any case, surrounding blanks allowed; anything else → default."""
    if text is not None:
        word = text.strip().lower()
        if word == "true":
            return True
        if word == "false":
            return False
    return default


def parse_int(text: str | None) -> int | None:
    """``int.TryParse`` (32-bit); None when absent or invalid."""
    if text is None or not _INT_RE.match(text):
        return None
    value = int(text.strip())
    return value if -_INT32_MAX - 1 <= value <= _INT32_MAX else None


def parse_datetime(text: str | None) -> datetime | None:
    """An ISO 8601 date or date-time as a UTC-aware datetime; None when absent or invalid.

    Accepts ``Z``, offsets, 7-digit .NET fractions and a bare date. A time without a zone is taken as UTC.
    An unescaped ``+`` in an offset arrives as a space (form decoding); that is put back.
    """
    if text is None:
        return None
    candidate = text.strip()
    if not candidate:
        return None
    for attempt in (candidate, _restore_plus(candidate)):
        if attempt is None:
            continue
        parsed = _fromiso(attempt)
        if parsed is not None:
            return parsed
    return None


def _restore_plus(text: str) -> str | None:
    match = re.match(r"^(.*T[^ ]*) (\d{2}(:?\d{2})?)$", text)
    return f"{match.group(1)}+{match.group(2)}" if match else None


def _fromiso(text: str) -> datetime | None:
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    # datetime.fromisoformat takes at most 6 fractional digits on older Pythons; .NET writes 7.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def parse_statuses(values: list[str]) -> frozenset[RuntimeStatus] | None:
    """``runtimeStatus`` values, each a comma list of enum names (case-sensitive) or numbers. Unknown
    entries are dropped silently; if none is left there is no filter (None)."""
    found = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            status = _STATUS_BY_NAME.get(part)
            if status is None and _INT_RE.match(part):
                status = _STATUS_BY_NUMBER.get(int(part))
            if status is not None:
                found.add(status)
    return frozenset(found) if found else None


def parse_seconds(text: str | None, name: str) -> float | None:
    """``double.TryParse`` then ``TimeSpan.FromSeconds``: None when absent or not a number; a number
    TimeSpan cannot hold is a 400 (in .NET FromSeconds throws)."""
    if text is None:
        return None
    stripped = text.strip()
    if _FLOAT_RE.match(stripped):
        value = float(stripped)
    elif stripped.lower() in ("nan", "infinity", "-infinity", "+infinity"):
        value = float(stripped.lower().replace("infinity", "inf"))
    else:
        return None
    if not math.isfinite(value) or abs(value) > _MAX_TIMESPAN_SECONDS:
        raise BadRequest(f"The value of '{name}' is not a valid duration in seconds: {text!r}.")
    return value


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole request body, refusing more than ``limit`` bytes (413) before or while reading it."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(f"The request body is larger than the {limit} bytes this API accepts.")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"The request body is larger than the {limit} bytes this API accepts.")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_body(body: bytes, charset: str | None) -> str:
    """Body bytes to text like ``ReadAsStringAsync``: the declared charset (UTF-8 by default), BOM dropped."""
    encoding = "utf-8"
    if charset:
        try:
            encoding = codecs.lookup(charset).name
        except LookupError:
            encoding = "utf-8"
    if encoding == "utf-8":
        encoding = "utf-8-sig"
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidJsonContent(f"The body is not valid {charset or 'UTF-8'} text: {exc.reason}.") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected character encountered while parsing value: {name}")


def parse_json(text: str) -> Any:
    """Strict JSON (no NaN/Infinity, no trailing content); failures are :class:`InvalidJsonContent`."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise InvalidJsonContent("The JSON is nested too deeply.") from exc
    except ValueError as exc:
        raise InvalidJsonContent(str(exc)) from exc
