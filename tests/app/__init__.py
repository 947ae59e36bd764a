"""Unit tests of the monitoring app (``function_app.py`` and ``job_monitor``)."""
