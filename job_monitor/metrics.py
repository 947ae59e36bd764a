"""Job metrics derived from one status record: rates in percent, throughput in items/second."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def ratios(record: Mapping[str, Any]) -> tuple[float, float] | None:
    """``(success_ratio, error_ratio)`` in 0..1, or None before any item was processed."""
    processed = int(record.get("items_processed") or 0)
    failed = int(record.get("items_failed") or 0)
    if processed <= 0:
        return None
    return (processed - failed) / processed, failed / processed


def job_metrics(record: Mapping[str, Any], seconds_monitored: float) -> dict[str, Any]:
    """The ``metrics`` block of the custom status.

    ``success_rate``/``error_rate`` are percentages rounded to 2 decimals (null until an item was
    processed); ``throughput_items_per_second`` is items processed per second since monitoring
    started.
    """
    processed = int(record.get("items_processed") or 0)
    rates = ratios(record)
    return {
        "items_processed": processed,
        "items_failed": int(record.get("items_failed") or 0),
        "success_rate": None if rates is None else round(rates[0] * 100, 2),
        "error_rate": None if rates is None else round(rates[1] * 100, 2),
        "throughput_items_per_second": round(processed / seconds_monitored, 3) if seconds_monitored > 0 else 0.0,
    }
