"""Indexing the app in the host process when its functions run in language-worker processes.

In Azure the Functions host never imports the app: the Python worker indexes it and sends the host the functions'
metadata. devhost's host imports the app to index it, so the app's module-level code runs in the host process
too. That is harmless except for telemetry the app sets up itself: an app that configures OpenTelemetry export
(``job_monitor/telemetry.py`` with ``OTEL_EXPORTER_OTLP_ENDPOINT``) would export from the host as well as from
its workers, and the host re-emits every log record a worker forwards (:mod:`devhost.runtime.worker.process`), so
each line would reach the collector twice, once without the invocation's trace context. The host therefore
imports the app with the OpenTelemetry SDK switched off (``OTEL_SDK_DISABLED=true``, the specification's own
switch: the SDK's tracer, logger and meter providers created meanwhile stay no-ops), and the workers, which run
the functions, export as the app configured them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from devhost.runtime.loader import load_app
from devhost.runtime.registry import FunctionRegistry

SDK_DISABLED_VARIABLE = "OTEL_SDK_DISABLED"
_lock = threading.Lock()


def index_for_workers(app_dir: Path) -> FunctionRegistry:
    """``load_app(app_dir)`` with OpenTelemetry's SDK disabled while the app is imported (see the module doc)."""
    with _lock:
        before = os.environ.get(SDK_DISABLED_VARIABLE)
        os.environ[SDK_DISABLED_VARIABLE] = "true"
        try:
            return load_app(app_dir)
        finally:
            if before is None:
                os.environ.pop(SDK_DISABLED_VARIABLE, None)
            else:
                os.environ[SDK_DISABLED_VARIABLE] = before
