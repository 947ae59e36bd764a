"""Crash-test app: an orchestrator of short activities and short timers whose activities log every execution.

``crash_flow`` takes a plan ``{"work_ms": int, "timers_ms": [int, ...], "hang_step": int | None}`` and, per
step, calls ``work`` then waits ``timers_ms[step]`` milliseconds on a durable timer; its output is the list of
``work`` results. The custom status ``{"step": n, "phase": "timer"}`` is set in the same episode that creates
step n's timer, so a client seeing it knows that TimerCreated is committed.

``work`` appends a ``start`` and an ``end`` line to the ledger file named by ``CRASH_LEDGER`` (one ``write`` on
an O_APPEND descriptor per line, so lines from concurrent threads never interleave), tagged with
``CRASH_GENERATION``. When ``CRASH_HANG=1`` the step named by ``hang_step`` blocks instead of finishing: the
test kills the host while those executions are provably in flight. host.json allows 40 concurrent activities:
the blocked ones must not take every slot (the default is 10 per CPU, only 10 on a one-CPU machine).
"""

import json
import os
import threading
import time
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

HANG_SAFETY_NET_SECONDS = 30.0


def _log(phase: str, job: dict) -> None:
    line = json.dumps(
        {"phase": phase, "instance": job["instance"], "step": job["step"], "generation": os.environ.get("CRASH_GENERATION")}
    )
    fd = os.open(os.environ["CRASH_LEDGER"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


@app.orchestration_trigger(context_name="context")
def crash_flow(context: df.DurableOrchestrationContext):
    plan = context.get_input()
    results = []
    for step, timer_ms in enumerate(plan["timers_ms"]):
        job = {"instance": context.instance_id, "step": step, "ms": plan["work_ms"], "hang": step == plan.get("hang_step")}
        results.append((yield context.call_activity("work", job)))
        context.set_custom_status({"step": step, "phase": "timer"})
        yield context.create_timer(context.current_utc_datetime + timedelta(milliseconds=timer_ms))
    return results


@app.activity_trigger(input_name="job")
def work(job: dict) -> str:
    _log("start", job)
    if job["hang"] and os.environ.get("CRASH_HANG") == "1":
        threading.Event().wait(HANG_SAFETY_NET_SECONDS)  # the test kills the process long before this
    time.sleep(job["ms"] / 1000)
    _log("end", job)
    return f"{job['instance']}:{job['step']}"
