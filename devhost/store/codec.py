"""What every Store shares on the wire of its API: the time text, page size and continuation tokens.

Times are kept as fixed-width UTC ISO-8601 text with microseconds, so text order is time order; a page
token is the (created_time text, instance_id) the previous page ended at, base64url-encoded JSON. Both
stores issue and accept the same tokens, so a token stays valid whichever store a host runs on.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

from devhost.core.errors import BadRequest

DEFAULT_PAGE_SIZE = 100
MAX_TOKEN_CHARS = 16 * 1024
"""Room for any token the stores issue: base64 of a 32-character time and an instance id, which the extension
caps at 256 characters (of up to 4 UTF-8 bytes each, JSON-escaped at worst as 12)."""

_UTC = timezone.utc


def to_text(when: datetime) -> str:
    """Fixed-width UTC ISO-8601 with microseconds, so text order is time order."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when!r}: the store takes timezone-aware datetimes")
    return when.astimezone(_UTC).isoformat(timespec="microseconds")


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def to_utc(when: datetime) -> datetime:
    """The same instant as an aware UTC datetime (ValueError for a naive one), as a store returns it."""
    return from_text(to_text(when))


def page_size(top: int | None) -> int:
    """``top`` or the default page size; BadRequest below 1."""
    size = DEFAULT_PAGE_SIZE if top is None else top
    if size < 1:
        raise BadRequest(f"top must be at least 1, got {size}")
    return size


def encode_token(created_time: str, instance_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_time, instance_id]).encode()).decode("ascii")


def decode_token(token: str) -> tuple[str, str]:
    """The (created_time text, instance_id) a page ended at; BadRequest for anything we did not issue.

    A token comes from the client, so anything may be in it: more text than a token we issue can hold, JSON
    nested deep enough to exhaust the parser's recursion (RecursionError), a date at the edge of the calendar
    whose UTC conversion overflows (OverflowError), or an escaped lone surrogate that no store can encode
    (UnicodeEncodeError when bound). Each is refused here, where the token is read, as one BadRequest.
    """
    try:
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError("longer than any token the store issues")
        created_time, instance_id = json.loads(base64.b64decode(token, altchars=b"-_", validate=True))
        if not isinstance(created_time, str) or not isinstance(instance_id, str):
            raise ValueError("token fields must be strings")
        if to_text(from_text(created_time)) != created_time:
            raise ValueError("token time is not in the store's format")
        instance_id.encode("utf-8")  # strict: a lone surrogate raises UnicodeEncodeError (a ValueError)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise BadRequest(f"invalid continuation token {_excerpt(token)}") from exc
    return created_time, instance_id


def encode_entity_token(entity_id: str) -> str:
    """The token of an entity page: the scheduler id the page ended at (entities are listed in id order)."""
    return base64.urlsafe_b64encode(json.dumps(["entity", entity_id]).encode()).decode("ascii")


def decode_entity_token(token: str) -> str:
    """The entity id an entity page ended at; BadRequest for anything we did not issue (same guards as
    :func:`decode_token`: length, nesting, lone surrogates)."""
    try:
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError("longer than any token the store issues")
        kind, entity_id = json.loads(base64.b64decode(token, altchars=b"-_", validate=True))
        if kind != "entity" or not isinstance(entity_id, str):
            raise ValueError("not an entity page token")
        entity_id.encode("utf-8")  # strict: a lone surrogate raises UnicodeEncodeError (a ValueError)
    except (ValueError, TypeError, RecursionError) as exc:
        raise BadRequest(f"invalid continuation token {_excerpt(token)}") from exc
    return entity_id


def _excerpt(token: str) -> str:
    return repr(token) if len(token) <= 100 else f"{token[:100]!r}... ({len(token)} characters)"
