"""devhost: a local Azure Durable Functions host for Python v2 apps.

Runs an unchanged ``function_app.py`` on an embedded SQLite store, serves the real Durable HTTP API,
and takes its time from one :class:`~devhost.clock.Clock`, so tests can skip minutes in milliseconds.
"""

__version__ = "0.1.0"
