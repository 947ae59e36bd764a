"""devhost.core.tracecontext: which traceparent/tracestate a start request brings is kept (W3C Trace Context)."""

from __future__ import annotations

import pytest

from devhost.core.tracecontext import MAX_TRACESTATE_LENGTH, accepted_trace

GOOD = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize(
    ("parent", "state", "expected"),
    [
        (GOOD, "a=1", (GOOD, "a=1")),
        (f" {GOOD} ", None, (GOOD, None)),
        (GOOD, "", (GOOD, None)),
        (GOOD, "x" * (MAX_TRACESTATE_LENGTH + 1), (GOOD, None)),
        (
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future",
            "a=1",
            ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future", "a=1"),
        ),
        (None, "a=1", (None, None)),
        ("", "a=1", (None, None)),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "a=1", (None, None)),  # upper case
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", None, (None, None)),  # version ff
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", None, (None, None)),  # zero trace id
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", None, (None, None)),  # zero parent id
        (f"{GOOD}-extra", None, (None, None)),  # version 00 has exactly four fields
        ("garbage", "a=1", (None, None)),
    ],
)
def test_only_a_well_formed_traceparent_is_kept(
    parent: str | None, state: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert accepted_trace(parent, state) == expected
