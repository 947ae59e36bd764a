"""The pipe between host and worker as an event loop sees it: length-prefixed pickle frames, read and written on the loop.

Each frame is an 8-byte big-endian length and the pickled tuple (:mod:`devhost.runtime.worker.frames`). A
:class:`Wire` reads its end of the pipe with ``loop.add_reader`` (non-blocking reads, however many frames one read
brings, a frame split across reads kept until its end arrives) and buffers what is sent during one loop pass into
one write at the start of the next (or sooner, once :data:`FLUSH_SIZE` bytes wait), so a dispatch round's turns
reach a worker, and their replies come back, in a few system calls instead of one each (and no thread hands frames
over with ``call_soon_threadsafe``). What the pipe does not take at once waits for ``add_writer``; nothing blocks
the loop.

:func:`write_blocking` is the same framing for a writer without a running loop (the worker before its loop starts
and after it ends).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import select
import struct
from typing import Any, Callable

Frame = tuple[Any, ...]

HEADER = struct.Struct("!Q")
READ_SIZE = 256 * 1024
"""Bytes asked for per read: a round's worth of small frames in one call; a larger frame takes several."""

FLUSH_SIZE = 256 * 1024
"""Bytes queued in one loop pass that are written at once instead of at the end of the pass: the peer starts on the
first frames of a round while the rest are being built (each side works while the other does). Not smaller: a write
that wakes the peer costs about a millisecond on a busy 2-core machine (the waker is often preempted), so 64 KiB
(with 8 KiB for the worker's replies) took more CPU and was no faster there."""


def encode(frame: Frame) -> list[bytes]:
    """A frame as the header and body to write (two pieces: a large body is not copied to prepend its length)."""
    body = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    return [HEADER.pack(len(body)), body]


def write_blocking(fd: int, data: bytes) -> None:
    """Write all of ``data``, waiting for the pipe when it is full (the fd may be non-blocking)."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[written:]


class FrameReader:
    """Splits the byte stream into frames: :meth:`feed` takes what a read returned and gives the frames it completed."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def partial(self) -> bool:
        """Whether the bytes fed so far end inside a frame (the writer stopped mid-frame if the stream ends here)."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        """The frames ``data`` completes; raises whatever unpickling a broken frame raises."""
        buffer = self._buffer
        buffer += data
        frames: list[Frame] = []
        position, size = 0, len(buffer)
        with memoryview(buffer) as view:  # released before the consumed prefix is deleted (a view pins the size)
            while size - position >= HEADER.size:
                (length,) = HEADER.unpack_from(view, position)
                end = position + HEADER.size + length
                if end > size:
                    break
                frames.append(pickle.loads(view[position + HEADER.size : end]))
                position = end
        if position:
            del buffer[:position]
        return frames


class Wire:
    """One end of the pipe, driven by ``loop``: ``on_frame`` gets each frame read, ``on_eof`` the end of the stream
    (or a frame that cannot be read: the peer is broken either way). :meth:`send` only on the loop's thread."""

    def __init__(
        self,
        fd: int,
        loop: asyncio.AbstractEventLoop,
        on_frame: Callable[[Frame], None],
        on_eof: Callable[[BaseException | None], None],
        *,
        flush_size: int = FLUSH_SIZE,
    ) -> None:
        os.set_blocking(fd, False)
        self._flush_size = flush_size
        self._fd = fd
        self._loop = loop
        self._on_frame = on_frame
        self._on_eof = on_eof
        self._reader = FrameReader()
        self._queued: list[bytes] = []
        """Frames sent in this loop pass, written together by :meth:`_flush`."""
        self._queued_size = 0
        self._unsent = bytearray()
        """What the pipe did not take yet (written when it is writable again)."""
        self._flush_scheduled = False
        self._writing = False
        self.reading = True
        self.broken = False
        """The peer no longer reads (a write failed): what is sent is dropped; the reader will see the end."""
        loop.add_reader(fd, self._readable)

    @property
    def truncated(self) -> bool:
        """Whether the stream ended in the middle of a frame."""
        return self._reader.partial

    # --- writing -------------------------------------------------------------------------------------
    def send(self, frame: Frame) -> None:
        if self.broken:
            return
        header, body = encode(frame)
        self._queued += (header, body)
        self._queued_size += len(body)
        if self._writing:
            return  # the pipe is full: _writable takes the queue when it drains
        if self._queued_size >= self._flush_size:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            # call_soon runs in the next pass, after every callback ready in this one: what they send joins this write.
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False  # a pass's flush that finds the queue empty (written early) writes nothing
        if self._queued:
            data = self._take_queued()
            if self._unsent:
                self._unsent += data
            else:
                self._write(data)
                return
        if self._unsent:
            self._write(None)

    def _write(self, data: bytes | None) -> None:
        """Write ``data`` (or what is left unsent) as far as the pipe takes it; wait for it to be writable for the rest."""
        if self.broken:
            return
        try:
            written = os.write(self._fd, self._unsent if data is None else data)
        except (BlockingIOError, InterruptedError):
            written = 0
        except OSError:  # the peer closed its end: it is gone, which its reader reports
            self._break()
            return
        if data is None:
            del self._unsent[:written]
        elif written < len(data):
            self._unsent += memoryview(data)[written:]
        if self._unsent and not self._writing:
            self._writing = True
            self._loop.add_writer(self._fd, self._writable)
        elif not self._unsent and self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)

    def _writable(self) -> None:
        if self._queued:
            self._unsent += self._take_queued()
        self._write(None)

    def _take_queued(self) -> bytes:
        data = b"".join(self._queued)
        self._queued.clear()
        self._queued_size = 0
        return data

    def _break(self) -> None:
        self.broken = True
        self._take_queued()
        self._unsent.clear()
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)

    def take_unsent(self) -> bytes:
        """Stop writing on the loop and hand over what it has not written yet (the caller writes it without one)."""
        data = bytes(self._unsent) + self._take_queued()
        self._unsent.clear()
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)
        self.broken = True  # nothing more is written through the loop
        return data

    # --- reading -------------------------------------------------------------------------------------
    def _readable(self) -> None:
        try:
            data = os.read(self._fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # a reset connection: the peer is gone
            data = b""
        if not data:
            self._end(None)
            return
        try:
            frames = self._reader.feed(data)
        except Exception as exc:  # noqa: BLE001 - a frame that cannot be unpickled: the peer is broken
            self._end(exc)
            return
        for frame in frames:
            try:
                self._on_frame(frame)
            except Exception as exc:  # noqa: BLE001 - as a callback of its own would: reported, the next frames still handled
                self._loop.call_exception_handler({"message": "error handling a frame", "exception": exc})
            if not self.reading:  # the handler closed the wire
                return

    def _end(self, error: BaseException | None) -> None:
        self.stop_reading()
        self._on_eof(error)

    def stop_reading(self) -> None:
        if self.reading:
            self.reading = False
            self._loop.remove_reader(self._fd)

    def close(self) -> None:
        """Stop reading and writing (the owner closes the fd); unsent output is dropped."""
        self.stop_reading()
        self._break()
