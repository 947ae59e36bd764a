"""The seam between the monitor and the system that runs the job.

The monitor only needs one question answered: "what is this job's status now?". A real
deployment would implement :class:`JobService` with an HTTP call to its batch system and install
it with :func:`set_job_service`; the sample ships the deterministic :class:`SimulatedJobService`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from .simulation import JobPlan, job_state


class JobService(Protocol):
    def get_status(self, plan: JobPlan, now: datetime) -> dict[str, Any]:
        """The job's status record (see :func:`job_monitor.simulation.job_state` for the keys).

        Must include ``status`` (``Unknown``/``Running``/``Completed``/``Failed``),
        ``items_processed``, ``items_failed``, ``items_total`` and ``progress_percent``.
        """


class SimulatedJobService:
    """Answers from :mod:`job_monitor.simulation`: the job's state is a function of time."""

    def get_status(self, plan: JobPlan, now: datetime) -> dict[str, Any]:
        return job_state(plan, now)


_service: JobService = SimulatedJobService()


def get_job_service() -> JobService:
    return _service


def set_job_service(service: JobService) -> JobService:
    """Install ``service`` for this process and return the previous one."""
    global _service
    previous, _service = _service, service
    return previous
