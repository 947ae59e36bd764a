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
BODY_READ: web.RequestKey[bool] = web.RequestKey("devhost.body_read", bool)
"""Set on a request whose body the host's bounds already read (``request.read()`` then returns it)."""

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
# More digits than any Int32 has (leading zeros aside): .NET TryParse fails on such a value, and Python's int()
# would refuse a string past sys.get_int_max_str_digits() (4300) with a ValueError, so it is never converted.
_MAX_INT_DIGITS = 10
_SURROGATE = re.compile("[\ud800-\udfff]")
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
    value = _small_int(text)
    return value if value is not None and -_INT32_MAX - 1 <= value <= _INT32_MAX else None


def _small_int(text: str) -> int | None:
    """An integer text (already matched by ``_INT_RE``) as an int, or None when it has more digits than an Int32."""
    digits = text.strip().lstrip("+-").lstrip("0")
    return int(text.strip()) if len(digits) <= _MAX_INT_DIGITS else None


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
                number = _small_int(part)
                status = None if number is None else _STATUS_BY_NUMBER.get(number)
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


async def read_body(request: web.Request, limit: int | None = None) -> bytes:
    """The whole request body, refusing more than ``limit`` bytes (413) before or while reading it.

    Behind the host's bounds (:mod:`devhost.http.limits`) the body was already read under the same cap and
    is taken from aiohttp's cache; on a bare application it is streamed here.
    """
    limit = MAX_BODY_BYTES if limit is None else limit
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(f"The request body is larger than the {limit} bytes this API accepts.")
    if request.get(BODY_READ, False):
        body = await request.read()
        if len(body) > limit:
            raise BodyTooLarge(f"The request body is larger than the {limit} bytes this API accepts.")
        return body
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
    encoding = _text_encoding(charset)
    try:
        text = body.decode(encoding)
    except UnicodeError as exc:  # UnicodeDecodeError, and the plain UnicodeError some codecs (punycode) raise
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise InvalidJsonContent(f"The body is not valid {charset or 'UTF-8'} text: {reason}.") from exc
    # A few codecs (unicode_escape, utf-7...) decode to lone surrogates, which are no Unicode text: nothing
    # downstream (the store, the wire) can encode them. An escaped "\\ud800" inside a JSON string is fine.
    found = _SURROGATE.search(text)
    if found is not None:
        raise InvalidJsonContent(f"The body holds a lone surrogate (U+{ord(found.group()):04X}) at character {found.start()}.")
    return text


def _text_encoding(charset: str | None) -> str:
    """The Python codec for a declared charset; UTF-8 (BOM dropped) when none is declared or the name is not a
    text encoding. Python's codec registry also holds bytes-to-bytes and str-to-str transforms (``hex``, ``base64``,
    ``uu``, ``rot13``...) that ``bytes.decode`` refuses with LookupError; they are no charset, so they count as
    unknown names like any other."""
    if charset:
        try:
            info = codecs.lookup(charset)
        except LookupError:
            info = None
        # CodecInfo._is_text_encoding is how str.encode/bytes.decode themselves tell the transforms apart.
        if info is not None and getattr(info, "_is_text_encoding", True) and info.name != "utf-8":
            return info.name
    return "utf-8-sig"


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
