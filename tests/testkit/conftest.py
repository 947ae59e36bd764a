"""The plugin's own tests run pytest inside pytest (pytester, enabled in pyproject.toml) on a tiny app written
outside the repo."""

from __future__ import annotations

from pathlib import Path

import pytest

from .tiny_app import write_app


@pytest.fixture
def tiny_app_project(pytester: pytest.Pytester) -> Path:
    """pytester's directory (a tmp dir, not in this repo) holding the tiny app at its root."""
    return write_app(pytester.path)


@pytest.fixture
def tiny_app_dir(tmp_path: Path) -> Path:
    return write_app(tmp_path / "tiny_app")
