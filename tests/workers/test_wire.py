"""The host-worker pipe on an event loop (devhost.runtime.worker.wire): frames split or joined across reads, the
end of the stream (also mid-frame), and what one loop pass sends leaving in one write."""

from __future__ import annotations

import asyncio
import os
import pickle
import socket
from typing import Any, Callable

import pytest

from devhost.runtime.worker.wire import FLUSH_SIZE, HEADER, FrameReader, Wire, encode, write_blocking


def framed(*frames: tuple[Any, ...]) -> bytes:
    return b"".join(piece for frame in frames for piece in encode(frame))


def test_a_read_holding_several_frames_gives_them_all_in_order() -> None:
    reader = FrameReader()

    frames = reader.feed(framed(("a", 1), ("b", 2), ("c", 3)))

    assert frames == [("a", 1), ("b", 2), ("c", 3)]
    assert not reader.partial


def test_a_frame_split_across_reads_is_given_once_its_last_byte_arrives() -> None:
    data = framed(("call", 7, "x" * 1000))
    reader = FrameReader()

    pieces = [reader.feed(data[i : i + 5]) for i in range(0, len(data), 5)]

    assert pieces[:-1] == [[]] * (len(pieces) - 1)
    assert pieces[-1] == [("call", 7, "x" * 1000)]


def test_a_split_header_is_kept_until_the_rest_arrives() -> None:
    data = framed(("a",), ("b",))
    cut = len(framed(("a",))) + 3  # inside the second frame's length prefix
    reader = FrameReader()

    first = reader.feed(data[:cut])
    partial = reader.partial
    second = reader.feed(data[cut:])

    assert (first, partial, second) == ([("a",)], True, [("b",)])


def test_a_garbled_frame_raises() -> None:
    body = b"not a pickle"
    reader = FrameReader()

    with pytest.raises(pickle.UnpicklingError):
        reader.feed(HEADER.pack(len(body)) + body)


class Peer:
    """The other end of a socket pair, read and written directly (as the other process would)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = FrameReader()

    def receive(self, count: int) -> list[tuple[Any, ...]]:
        frames: list[tuple[Any, ...]] = []
        while len(frames) < count:
            frames += self.reader.feed(self.sock.recv(1 << 20))
        return frames


class Ends:
    """A Wire on one end of a socket pair, what it read and whether it saw the end."""

    def __init__(self, handler: Callable[[tuple[Any, ...]], None] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        self._ours = ours
        self.peer = Peer(theirs)
        self.frames: list[tuple[Any, ...]] = []
        self.arrived = asyncio.Event()
        self.ended: asyncio.Future[BaseException | None] = self.loop.create_future()
        self.wire = Wire(ours.fileno(), self.loop, handler or self._frame, self.ended.set_result)

    def _frame(self, frame: tuple[Any, ...]) -> None:
        self.frames.append(frame)
        self.arrived.set()

    def close(self) -> None:
        self.wire.close()
        self._ours.close()
        self.peer.sock.close()


def test_frames_written_in_one_piece_by_the_peer_all_reach_the_handler() -> None:
    async def scenario() -> list[tuple[Any, ...]]:
        ends = Ends()
        ends.peer.sock.sendall(framed(("done", 1, "a"), ("done", 2, "b")))
        while len(ends.frames) < 2:
            ends.arrived.clear()
            await ends.arrived.wait()
        ends.close()
        return ends.frames

    assert asyncio.run(scenario()) == [("done", 1, "a"), ("done", 2, "b")]


def test_the_peer_closing_mid_frame_ends_the_stream_as_truncated() -> None:
    async def scenario() -> tuple[BaseException | None, bool, list[tuple[Any, ...]]]:
        ends = Ends()
        data = framed(("done", 1, "whole"), ("done", 2, "cut short"))
        ends.peer.sock.sendall(data[:-4])
        ends.peer.sock.close()
        error = await ends.ended
        truncated = ends.wire.truncated
        ends.wire.close()
        ends._ours.close()
        return error, truncated, ends.frames

    error, truncated, frames = asyncio.run(scenario())

    assert error is None and truncated
    assert frames == [("done", 1, "whole")]


def test_a_garbled_frame_ends_the_stream_with_its_error() -> None:
    async def scenario() -> BaseException | None:
        ends = Ends()
        ends.peer.sock.sendall(HEADER.pack(3) + b"bad")
        error = await ends.ended
        ends.close()
        return error

    assert isinstance(asyncio.run(scenario()), Exception)


def test_what_one_loop_pass_sends_leaves_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[int] = []
    real_write = os.write

    def counting_write(fd: int, data: Any) -> int:
        writes.append(fd)
        return real_write(fd, data)

    async def scenario() -> list[tuple[Any, ...]]:
        ends = Ends()
        monkeypatch.setattr(os, "write", counting_write)
        for call_id in range(50):
            ends.wire.send(("call", call_id, "context"))
        await asyncio.sleep(0)  # the next pass: the flush
        await asyncio.sleep(0)
        monkeypatch.undo()
        received = ends.peer.receive(50)
        ends.close()
        return received

    received = asyncio.run(scenario())

    assert writes and len(writes) == 1
    assert received == [("call", call_id, "context") for call_id in range(50)]


def test_more_than_the_pipe_takes_at_once_is_written_as_it_drains() -> None:
    big = "x" * (4 << 20)  # larger than a socket buffer: the first write is partial

    async def scenario() -> list[tuple[Any, ...]]:
        ends = Ends()
        for call_id in range(3):
            ends.wire.send(("call", call_id, big))
        await asyncio.sleep(0)
        # The peer reads on a thread while the loop goes on writing what is left whenever the pipe drains.
        received = await asyncio.to_thread(ends.peer.receive, 3)
        ends.close()
        return received

    received = asyncio.run(scenario())

    assert [(frame[1], len(frame[2])) for frame in received] == [(0, len(big)), (1, len(big)), (2, len(big))]


def test_a_blocking_write_waits_for_a_full_pipe_to_drain() -> None:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    data = framed(("log", "x" * (4 << 20)))
    peer = Peer(theirs)

    async def scenario() -> list[tuple[Any, ...]]:
        reading = asyncio.create_task(asyncio.to_thread(peer.receive, 1))
        await asyncio.to_thread(write_blocking, ours.fileno(), data)
        return await reading

    received = asyncio.run(scenario())
    ours.close()
    theirs.close()

    assert len(received[0][1]) == 4 << 20


def test_a_pass_that_queues_more_than_the_flush_size_writes_it_without_waiting_for_the_pass_to_end() -> None:
    async def scenario() -> tuple[bytes, bytes]:
        ends = Ends()
        ends.peer.sock.setblocking(False)
        ends.wire.send(("call", 1, "small"))
        small_only = _available(ends.peer.sock)
        ends.wire.send(("call", 2, "x" * FLUSH_SIZE))  # past the flush size: written now, with what was queued before
        written = _available(ends.peer.sock)
        ends.close()
        return small_only, written

    small_only, written = asyncio.run(scenario())

    assert small_only == b""
    assert FrameReader().feed(written)[0] == ("call", 1, "small")


def _available(sock: socket.socket) -> bytes:
    try:
        return sock.recv(1 << 20)
    except BlockingIOError:
        return b""


def test_a_handler_failing_on_one_frame_still_gets_the_frames_after_it() -> None:
    async def scenario() -> list[tuple[Any, ...]]:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda loop, context: None)  # the failure is reported there; not this test's concern
        handled: list[tuple[Any, ...]] = []
        done = asyncio.Event()

        def handler(frame: tuple[Any, ...]) -> None:
            if frame[1] == 1:
                raise ValueError("bad frame")
            handled.append(frame)
            done.set()

        ends = Ends(handler)
        ends.peer.sock.sendall(framed(("done", 1), ("done", 2)))
        await done.wait()
        ends.close()
        return handled

    assert asyncio.run(scenario()) == [("done", 2)]
