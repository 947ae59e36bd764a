"""Socket reads for the host's HTTP server: into one reused buffer, not a fresh 256 KiB block per read.

asyncio's selector transport hands a plain ``Protocol`` (aiohttp's request handler is one) each read as a new
``bytes``: ``sock.recv(max_size)`` with ``max_size = 256 * 1024`` (``_SelectorSocketTransport`` in CPython's
``Lib/asyncio/selector_events.py``) allocates 256 KiB and then shrinks it to what arrived (``sock_recv_impl`` /
``_PyBytes_Resize`` in ``Modules/socketmodule.c``). glibc serves blocks above its mmap threshold with ``mmap``, but
raises that threshold to the size of any mmapped block freed (``M_MMAP_THRESHOLD``, "dynamic mmap threshold" in
``mallopt(3)``); importing the app and its SDKs frees several such blocks, so by the time the host serves, the
threshold is above 256 KiB and every read takes 256 KiB from the main heap. What is kept of it stays put while
other allocations fill the rest, so the next read finds no 256 KiB hole and the heap grows: measured on a host
serving generated hostile requests, the heap grew ~0.6 MB per 1,000 requests while the bytes in use stayed flat
(docs/hostile-input.md, "Memory").

A ``BufferedProtocol`` is read with ``recv_into`` into a buffer it supplies instead. :class:`ReusedBufferSite`
wraps each request handler in :class:`BufferedReads`, which supplies one buffer owned by the site (reads run on
the event loop's thread one at a time, and each is copied out before the next) and hands the handler ``bytes`` of
exactly what was read, as the transport did. The read size stays asyncio's 256 KiB.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

READ_SIZE = 256 * 1024
"""The most one read takes: asyncio's ``_SelectorSocketTransport.max_size``, unchanged."""


class BufferedReads(asyncio.BufferedProtocol):
    """Feeds ``inner`` (a plain protocol) the bytes read into ``buffer``; everything else is passed through."""

    __slots__ = ("_inner", "_buffer")

    def __init__(self, inner: asyncio.Protocol, buffer: memoryview) -> None:
        self._inner = inner
        self._buffer = buffer

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self._inner.data_received(self._buffer[:nbytes].tobytes())

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class ReusedBufferSite(web.SockSite):
    """``web.SockSite`` whose connections read through :class:`BufferedReads` into one buffer of this site."""

    __slots__ = ("_read_buffer",)

    def __init__(self, runner: web.BaseRunner, sock: Any, **kwargs: Any) -> None:
        super().__init__(runner, sock, **kwargs)
        self._read_buffer = memoryview(bytearray(READ_SIZE))

    async def start(self) -> None:
        # web.SockSite.start with the handler factory wrapped (aiohttp's web_runner.py, SockSite.start).
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        buffer = self._read_buffer
        self._server = await asyncio.get_running_loop().create_server(
            lambda: BufferedReads(server(), buffer), sock=self._sock, ssl=self._ssl_context, backlog=self._backlog
        )
