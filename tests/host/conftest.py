"""Shared fixtures for the host-shell tests: the tiny apps under tests/apps."""

from __future__ import annotations

from pathlib import Path

import pytest

from devhost.runtime.loader import load_app
from devhost.runtime.registry import FunctionRegistry

APPS = Path(__file__).resolve().parent.parent / "apps"


@pytest.fixture
def kinds_app() -> FunctionRegistry:
    """tests/apps/kinds, freshly imported (get_functions() works once per app object)."""
    return load_app(APPS / "kinds")
