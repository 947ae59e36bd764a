"""Fixtures for the conformance tests: the engine_features app on devhost (virtual clock)."""

from __future__ import annotations

from typing import Callable

import pytest

from devhost.testing import DurableAppHandle
from tests.engine.conftest import APP_DIR


@pytest.fixture
def app(durable_app: Callable[..., DurableAppHandle]) -> DurableAppHandle:
    return durable_app(APP_DIR)
