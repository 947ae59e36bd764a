"""The pure core of the host: history in, history events and effects out.

Nothing in this package does I/O, reads a clock or imports sqlite3, aiohttp, asyncio or time: every
timestamp is passed in, and every effect (run an activity, arm a timer, start a child) is returned as data.
Protocol names and tables (statuses, event types, labels) are defined once, in :mod:`devhost.core.protocol`.
"""
