"""W3C Trace Context headers (https://www.w3.org/TR/trace-context/): which ``traceparent``/``tracestate`` a start
request brings that the host keeps with the instance.

A receiver that cannot parse ``traceparent`` ignores it (and then ``tracestate`` too), as the spec says
(§3.2.2.1 and §3.3): a bad header never fails a start, it just starts no trace.
"""

from __future__ import annotations

import re

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
MAX_TRACESTATE_LENGTH = 512
"""The spec lets a vendor cut tracestate to 512 characters (§3.3.1.5); longer values are dropped."""

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")


def accepted_trace(traceparent: str | None, tracestate: str | None) -> tuple[str | None, str | None]:
    """(traceparent, tracestate) to keep, or (None, None) when ``traceparent`` is missing or malformed."""
    if not traceparent:
        return None, None
    parent = traceparent.strip()
    match = _TRACEPARENT.match(parent)
    if match is None:
        return None, None
    version, trace_id, parent_id, _flags, rest = match.groups()
    if version == "ff" or trace_id == "0" * 32 or parent_id == "0" * 16 or (version == "00" and rest):
        return None, None
    state = (tracestate or "").strip()
    return parent, (state if state and len(state) <= MAX_TRACESTATE_LENGTH else None)
