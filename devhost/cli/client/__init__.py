"""``python -m devhost list|status|history|watch|terminate|raise|purge``: a client for a running host.

Each command talks HTTP to ``--url`` (default ``$DEVHOST_URL`` or ``http://localhost:7071``): the public Durable
HTTP API for status and actions, the dashboard's read API (``/_devhost/api``) for filtered lists and paged
history. Exit codes are in :mod:`devhost.cli.client.http` (:class:`ExitCode`) and docs/dashboard.md.
"""
