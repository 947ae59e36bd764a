"""A real Event Grid topic stand-in on 127.0.0.1: an aiohttp server that records every POST and answers with the
statuses a test scripts (200 once the script runs out). ``hold`` makes it keep requests unanswered."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devhost.testing.loop import LoopThread

SAFETY_NET_SECONDS = 30.0


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver got: its headers, its parsed body and the status it answered (None: held)."""

    headers: dict[str, str]
    body: Any
    status: int | None

    @property
    def event(self) -> dict[str, Any]:
        (event,) = self.body
        return dict(event)


class Receiver:
    def __init__(self, statuses: tuple[int, ...] = (), *, hold: bool = False) -> None:
        self.script = deque(statuses)
        self.hold = hold
        self.deliveries: list[Delivery] = []
        self._runner: web.AppRunner | None = None
        self._arrived: asyncio.Condition | None = None
        self._released: asyncio.Event | None = None
        self.url = ""

    async def start(self) -> Receiver:
        self._arrived = asyncio.Condition()
        self._released = asyncio.Event()
        app = web.Application()
        app.router.add_post("/api/events", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/api/events"
        return self

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()

    def release(self) -> None:
        """Stop holding: requests held so far end (their client is gone by then), new ones are answered."""
        self.hold = False
        if self._released is not None:
            self._released.set()

    async def _handle(self, request: web.Request) -> web.Response:
        assert self._arrived is not None
        body = json.loads(await request.text())
        held = self.hold
        status = None if held else (self.script.popleft() if self.script else 200)
        self.deliveries.append(Delivery(dict(request.headers), body, status))
        async with self._arrived:
            self._arrived.notify_all()
        if held:
            assert self._released is not None
            await self._released.wait()  # unanswered until released: the host is killed while waiting for this
            return web.Response(status=503)
        assert status is not None
        return web.Response(status=status, text="" if status < 300 else "topic says no")

    async def wait_for(self, count: int) -> list[Delivery]:
        """Wait (on the loop, no sleeping) until ``count`` requests have arrived."""
        assert self._arrived is not None
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.deliveries) >= count), SAFETY_NET_SECONDS)
        return list(self.deliveries)

    def accepted(self) -> list[dict[str, Any]]:
        """The events answered 2xx, in arrival order."""
        return [d.event for d in self.deliveries if d.status is not None and 200 <= d.status < 300]


class ThreadedReceiver:
    """A :class:`Receiver` on its own loop thread, for tests whose host is another process."""

    def __init__(self, statuses: tuple[int, ...] = (), *, hold: bool = False) -> None:
        self.loop = LoopThread("event-grid-receiver")
        self.receiver = self.loop.run(Receiver(statuses, hold=hold).start())

    @property
    def url(self) -> str:
        return self.receiver.url

    def wait_for(self, count: int) -> list[Delivery]:
        return self.loop.run(self.receiver.wait_for(count), timeout=SAFETY_NET_SECONDS + 5)

    def release(self) -> None:
        self.loop.run(_call(self.receiver.release))

    def close(self) -> None:
        self.loop.run(self.receiver.stop())
        self.loop.close()


async def _call(function: Any) -> None:
    function()
