"""Benchmark app: a monitor-shaped orchestration (check a job, publish progress, wait, repeat).

``bench_monitor`` takes ``{"job_id": str, "iterations": int, "interval_seconds": float}`` and, per iteration,
calls the ``check_job`` activity, sets its custom status and waits on a durable timer of
``interval_seconds`` (0 in the benchmark: the timer is due the moment it is created, so every step is host
and SDK work, not waiting). Same shape as the sample's ``monitoring_job_orchestrator`` without its policy.
"""

from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.orchestration_trigger(context_name="context")
def bench_monitor(context: df.DurableOrchestrationContext):
    job = context.get_input()
    record = None
    for check in range(1, job["iterations"] + 1):
        record = yield context.call_activity("check_job", {"job_id": job["job_id"], "check": check, "of": job["iterations"]})
        context.set_custom_status({"checks": check, "status": record["status"], "progress": record["progress"]})
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=job["interval_seconds"]))
    return {"job_id": job["job_id"], "checks": job["iterations"], "final_status": record and record["status"]}


@app.activity_trigger(input_name="job")
def check_job(job: dict) -> dict:
    done = job["check"] >= job["of"]
    return {
        "job_id": job["job_id"],
        "status": "Completed" if done else "Running",
        "progress": round(100 * job["check"] / job["of"]),
    }
