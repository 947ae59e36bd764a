"""Fixtures for the replay checker tests: the base test app, loaded once, and its recordings."""

from __future__ import annotations

from pathlib import Path

import pytest

from devhost.replay.model import Recording, ReplayTarget
from devhost.replay.sources import target_for_registry
from devhost.runtime.registry import FunctionRegistry
from tests.replay.apps import load_variant, record_all


@pytest.fixture(scope="module")
def base_registry(tmp_path_factory: pytest.TempPathFactory) -> FunctionRegistry:
    return load_variant(tmp_path_factory.mktemp("apps"))


@pytest.fixture(scope="module")
def base_target(base_registry: FunctionRegistry) -> ReplayTarget:
    return target_for_registry(base_registry)


@pytest.fixture(scope="module")
def recordings(base_registry: FunctionRegistry) -> list[Recording]:
    return record_all(base_registry)


@pytest.fixture
def variant_target(tmp_path: Path):
    def load(variant: str) -> ReplayTarget:
        return target_for_registry(load_variant(tmp_path, variant))

    return load
