"""Testing Durable Functions apps on devhost: a pytest plugin with a time-skipping app fixture.

``durable_app()`` (the factory fixture) starts an app in-process on a VirtualClock with a SQLite store in
``tmp_path`` and returns a :class:`DurableAppHandle`. Time only moves while a test waits for a result
(``wait_for_completion``) or asks it to (``advance``), so a 7-day monitor finishes in milliseconds.
"""

from devhost.testing.handle import DurableAppHandle, HttpResponse

__all__ = ["DurableAppHandle", "HttpResponse"]
