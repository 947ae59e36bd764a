"""Function app entry point (Python v2 programming model).

All functions live in the :mod:`job_monitor` package and are registered on its blueprint; this
file only turns on the telemetry exporters the app settings ask for (:mod:`job_monitor.telemetry`;
nothing when none is set) and creates the app the Functions host indexes.
"""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from job_monitor import bp, telemetry

telemetry.configure_from_environment()

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(bp)
