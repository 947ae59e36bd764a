"""The status client the benchmarks run beside a host: GETs instance statuses at a steady rate, in a process of
its own (as a real client is), and hands back the latencies. Standard library only, so it starts quickly.
"""

from __future__ import annotations

import http.client
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event


def poll(address: tuple[str, int], paths: list[str], interval: float, stop: Event, results: Connection) -> None:
    """GET ``paths`` in turn every ``interval`` seconds until ``stop`` is set; send (latencies, errors) back.

    One keep-alive connection (reopened after an error), as a polling client with a session would use.
    """
    connection: http.client.HTTPConnection | None = None
    latencies: list[float] = []
    errors = 0
    due = time.perf_counter()
    count = 0
    while not stop.is_set():
        path = paths[count % len(paths)]
        count += 1
        started = time.perf_counter()
        try:
            connection = connection or http.client.HTTPConnection(*address, timeout=30)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            ok = response.status in (200, 202)
        except (http.client.HTTPException, OSError):
            ok = False
            if connection is not None:
                connection.close()
            connection = None
        if ok:
            latencies.append(time.perf_counter() - started)
        else:
            errors += 1
        due += interval
        stop.wait(max(0.0, due - time.perf_counter()))
    if connection is not None:
        connection.close()
    results.send((latencies, errors))
    results.close()
