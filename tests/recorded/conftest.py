"""Fixtures shared by the SDK speedup tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devhost.runtime import sdk_speedups


@pytest.fixture
def memo_state() -> Iterator[None]:
    """Leave the process's SDK speedups as the test found them (the loader installs them for every other test)."""
    was_installed = sdk_speedups.installed()
    try:
        yield
    finally:
        (sdk_speedups.install if was_installed else sdk_speedups.uninstall)()
