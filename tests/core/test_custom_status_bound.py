"""The custom-status size check re-encodes a status only when it could be over the limit: the compact form the
extension measures never has more UTF-16 units than the ASCII text devhost keeps has characters."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devhost.core.turn import CUSTOM_STATUS_LIMIT_KB, EpisodeFailure, _check_custom_status

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(json_values)
def test_the_compact_form_has_no_more_utf16_units_than_the_stored_text_has_characters(value: Any) -> None:
    text = json.dumps(value)

    compact = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)

    assert len(compact.encode("utf-16-le")) // 2 <= len(text)


def test_a_status_just_over_the_limit_in_astral_characters_still_fails() -> None:
    # 4,352 astral characters: 12 ASCII characters each as stored, 4 UTF-16 bytes each compact = 17,408 + 4 bytes.
    text = json.dumps("\U0001f600" * (CUSTOM_STATUS_LIMIT_KB * 256 + 256))

    try:
        _check_custom_status(text)
    except EpisodeFailure as failure:
        assert "The current payload size is 17 KB." in str(failure)
    else:
        raise AssertionError("a 17 KB status passed the check")
