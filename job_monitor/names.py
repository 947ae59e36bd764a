"""Every function name and route of the app, defined once.

The decorators register functions under these names and the call sites (``start_new``,
``call_activity``) use the same constants, so a rename cannot leave a dangling string behind.
"""

from __future__ import annotations

# HTTP functions (routes are served under the host's ``/api`` prefix).
START_MONITORING_JOB = "start_monitoring_job"
START_MONITORING_JOB_ROUTE = "start_monitoring_job"
JOB_STATUS = "job_status"
JOB_STATUS_ROUTE = "job_status/{jobId}"
JOB_STATUS_ROUTE_PARAM = "jobId"

# Durable functions.
MONITORING_JOB_ORCHESTRATOR = "monitoring_job_orchestrator"
CHECK_JOB_STATUS = "check_job_status"
WAIT_FOR_INTERVAL = "wait_for_interval"
DELIVER_ALERT = "deliver_alert"
