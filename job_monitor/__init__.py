"""Job monitoring sample: the monitor pattern on Azure Durable Functions (Python v2 model).

Importing the package registers every function on :data:`bp`; ``function_app.py`` only has to
``app.register_functions(bp)``.
"""

from __future__ import annotations

from . import activities, http_api, orchestrator  # noqa: F401  (registers the functions on bp)
from .blueprint import bp

__all__ = ["bp"]
