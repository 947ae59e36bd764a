"""``pip install devhost`` into a brand-new virtualenv (no system site-packages) and the plugin just works.

Opt-in: it installs devhost's dependencies from the package index (or from ``DEVHOST_WHEELHOUSE`` with
``--no-index``), which takes tens of seconds and needs the index or a wheelhouse. Run it with
``DEVHOST_FRESH_VENV=1`` (about 25 s from a warm pip cache). Offline, from a wheelhouse made once with
``pip download -d wheelhouse -r requirements.txt aiohttp==3.14.5 pytest==9.2.0 hatchling==1.33.0``:
``DEVHOST_FRESH_VENV=1 DEVHOST_WHEELHOUSE=wheelhouse`` (about 15 s). CI's own fresh venv covers the rest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .tiny_app import write_app

REPO = Path(__file__).resolve().parents[2]

APP_TESTS = """
def test_a_timer_hour_passes_instantly(durable_app):
    app = durable_app()
    assert app.wait_for_completion(app.start("after_an_hour"))["output"]["greeting"] == "Hello, world!"


def test_a_stub_replaces_the_activity(durable_app):
    app = durable_app()
    app.stub_activity("greet", lambda name: "stubbed")
    assert app.wait_for_completion(app.start("greet_once", {"name": "X"}))["output"] == "stubbed"
"""


@pytest.mark.skipif(not os.environ.get("DEVHOST_FRESH_VENV"), reason="set DEVHOST_FRESH_VENV=1 (installs from the package index)")
def test_plugin_works_after_pip_install_into_a_fresh_virtualenv(tmp_path: Path) -> None:
    source = tmp_path / "devhost-src"  # a copy holding only what the package is built from
    shutil.copytree(REPO / "devhost", source / "devhost", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", source / "pyproject.toml")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    wheelhouse = os.environ.get("DEVHOST_WHEELHOUSE")
    offline = ["--no-index", "--find-links", wheelhouse] if wheelhouse else []
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *offline, f"{source}[testing]"], check=True, timeout=600, env=env
    )
    project = write_app(tmp_path / "project")
    (project / "test_app.py").write_text(APP_TESTS, encoding="utf-8")

    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    plugin_file = subprocess.run(
        [str(python), "-c", "import devhost.testing.plugin as p; print(p.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=project,
    ).stdout
    assert str(venv) in plugin_file  # the installed copy, not this checkout
