"""Reading Durable HTTP API requests: query values the way the extension parses them, and capped JSON bodies.

The extension reads the query through a case-insensitive ``NameValueCollection`` and .NET ``TryParse``
helpers (API notes B.1): a value that does not parse is treated as absent and the default applies —
never an error. Bodies are read here with a size cap so a huge upload cannot exhaust memory.
"""

from __future__ import annotations

import codecs
import email.utils
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
    """A date or date-time in a form .NET ``DateTime.TryParse`` accepts and clients send, as a UTC-aware datetime;
    None when absent, blank or not one of them.

    The extension reads ``createdTimeFrom``/``createdTimeTo`` with ``DateTime.TryParse`` (HttpApiHandler.cs line
    750), culture-dependent and lenient. devhost takes the forms clients actually send:

    - ISO 8601 extended: a date, optionally ``T`` or a space and ``hh:mm[:ss[.fraction]]``, optionally ``Z`` or an
      offset ``±hh[:mm]``/``±hhmm`` (an unescaped ``+`` decoded to a space is put back); .NET's 7-digit fractions;
    - RFC 1123 / RFC 2822 (``Wed, 02 Dec 2026 16:23:34 GMT``, ``... +0000``: JavaScript's ``toUTCString()``,
      ``date -R``, .NET's ``"R"`` format);
    - slashed dates of the invariant (and en-US) culture, month first (``12/2/2026``, ``12/02/2026 16:23:34``,
      ``12/2/2026 4:23:34 PM``), and year first (``2026/12/02 16:23``).

    A time without a zone is taken as UTC (the Functions host's local time in Azure is UTC).
    """
    if text is None:
        return None
    candidate = " ".join(text.split())
    if not candidate:
        return None
    for parse in (_iso_extended, _slashed, _rfc_2822):
        parsed = parse(candidate)
        if parsed is not None:
            return parsed
    return None


_ISO_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)"
    r" ?(?P<zone>[Zz]|[+ -]\d{2}(?::?\d{2})?)?)?$"
)
_SLASHED_RE = re.compile(
    r"^(?:(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})|(?P<year2>\d{4})/(?P<month2>\d{1,2})/(?P<day2>\d{1,2}))"
    r"(?: (?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?(?: ?(?P<ampm>[AaPp][Mm]))?)?$"
)

_RFC_2822_RE = re.compile(
    r"^(?P<date>(?:[A-Za-z]{3}, ?)?\d{1,2} [A-Za-z]{3} \d{4})(?: (?P<time>\d{2}:\d{2}(?::\d{2})?))?"
    r"(?: (?P<zone>GMT|UTC|UT|Z|[+-]\d{4}))?$"
)


def _iso_extended(text: str) -> datetime | None:
    match = _ISO_RE.match(text)
    if match is None:
        return None
    zone = match["zone"] or ""
    if zone[:1] == " ":  # form decoding turned an unescaped '+' into a space
        zone = "+" + zone[1:]
    if zone in ("Z", "z"):
        zone = "+00:00"
    elif len(zone) == 5:  # +hhmm
        zone = f"{zone[:3]}:{zone[3:]}"
    elif len(zone) == 3:  # +hh
        zone += ":00"
    time = (match["time"] or "00:00").replace(",", ".")
    # datetime.fromisoformat takes at most 6 fractional digits on older Pythons; .NET writes 7.
    time = re.sub(r"(\.\d{6})\d+", r"\1", time)
    return _aware(f"{match['date']}T{time}{zone}")


def _slashed(text: str) -> datetime | None:
    match = _SLASHED_RE.match(text)
    if match is None:
        return None
    year, month, day = (
        (match["year"], match["month"], match["day"]) if match["year"] else (match["year2"], match["month2"], match["day2"])
    )
    hour = int(match["hour"] or 0)
    ampm = (match["ampm"] or "").lower()
    if ampm and not 1 <= hour <= 12:
        return None
    if ampm:
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            hour,
            int(match["minute"] or 0),
            int(match["second"] or 0),
            int(fraction),
            tzinfo=timezone.utc,
        )
    except ValueError:
        return None


def _rfc_2822(text: str) -> datetime | None:
    match = _RFC_2822_RE.match(text)
    if match is None:
        return None
    if match["time"] is None:
        text = f"{match['date']} 00:00:00 {match['zone'] or ''}"
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _aware(text: str) -> datetime | None:
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
