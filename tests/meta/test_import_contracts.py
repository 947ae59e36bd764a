"""The import contracts in pyproject.toml catch a wrong import: a copy of devhost with one injected import makes
``lint-imports`` fail and name it. (``.ci/run`` runs ``lint-imports`` on the real tree; this proves it can fail.)

By hand, the same demonstration: add ``import devhost.store.sqlite`` to ``devhost/core/model.py`` and run
``lint-imports``; it exits 1 with ``devhost.core.model -> devhost.store.sqlite`` under the layers contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"  # import-linter, pinned in requirements-dev.txt


def lint_imports_with(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on a copy of devhost (and the repo's contracts) with ``line`` appended to ``module``."""
    shutil.copytree(REPO / "devhost", tmp_path / "devhost", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "devhost" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_core_importing_the_store_breaks_the_layers_contract(tmp_path: Path) -> None:
    result = lint_imports_with(tmp_path, "core/model.py", "import devhost.store.sqlite  # injected by the test")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "devhost layers: one import direction, bottom up BROKEN" in result.stdout
    assert "devhost.core.model -> devhost.store.sqlite" in result.stdout


def test_the_core_importing_sqlite3_breaks_the_purity_contract(tmp_path: Path) -> None:
    result = lint_imports_with(tmp_path, "core/events.py", "import sqlite3  # injected by the test")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "the core is pure: no I/O, no event loop, no clock, no SDK BROKEN" in result.stdout
    assert "devhost.core.events -> sqlite3" in result.stdout
