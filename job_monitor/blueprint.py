"""The Durable Functions blueprint every function of the app registers on.

``function_app.py`` registers it into the ``DFApp``. Kept in its own module so the function
modules can import it without importing each other.
"""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint(http_auth_level=func.AuthLevel.ANONYMOUS)
