"""Request-body cases shared by the validation tests and the HTTP tests.

``INVALID``: (id, raw body, field expected in the 400, fragment of the message).
``field`` None means the body as a whole is rejected.
"""

from __future__ import annotations

from typing import Optional

FIELDS = (
    "job_id",
    "polling_interval_seconds",
    "timeout_seconds",
    "workflow_type",
    "batch_size",
    "failure_rate",
    "enable_monitoring",
    "wait_strategy",
    "simulated_duration_seconds",
    "simulated_outcome",
    "error_rate_threshold",
)

Case = tuple[str, bytes, Optional[str], str]

INVALID: list[Case] = [
    # booleans are not numbers
    ("interval-true", b'{"polling_interval_seconds": true}', "polling_interval_seconds", "not a boolean"),
    ("timeout-false", b'{"timeout_seconds": false}', "timeout_seconds", "not a boolean"),
    ("batch-true", b'{"batch_size": true}', "batch_size", "not a boolean"),
    ("failure-rate-true", b'{"failure_rate": true}', "failure_rate", "not a boolean"),
    ("threshold-false", b'{"error_rate_threshold": false}', "error_rate_threshold", "not a boolean"),
    ("duration-true", b'{"simulated_duration_seconds": true}', "simulated_duration_seconds", "not a boolean"),
    # non-finite numbers (Python's json accepts these literals; JSON does not)
    ("interval-nan", b'{"polling_interval_seconds": NaN}', "polling_interval_seconds", "finite"),
    ("timeout-infinity", b'{"timeout_seconds": Infinity}', "timeout_seconds", "finite"),
    ("rate-minus-infinity", b'{"failure_rate": -Infinity}', "failure_rate", "finite"),
    ("timeout-overflow", b'{"timeout_seconds": 1e400}', "timeout_seconds", "finite"),
    # wrong types
    ("job-id-number", b'{"job_id": 123}', "job_id", "must be a string"),
    ("interval-string", b'{"polling_interval_seconds": "5"}', "polling_interval_seconds", "must be a number"),
    ("batch-float", b'{"batch_size": 10.5}', "batch_size", "integer"),
    ("batch-whole-float", b'{"batch_size": 100.0}', "batch_size", "integer"),
    ("batch-string", b'{"batch_size": "100"}', "batch_size", "integer"),
    ("monitoring-string", b'{"enable_monitoring": "true"}', "enable_monitoring", "boolean"),
    ("monitoring-int", b'{"enable_monitoring": 1}', "enable_monitoring", "boolean"),
    ("workflow-number", b'{"workflow_type": 12}', "workflow_type", "must be a string"),
    ("workflow-object", b'{"workflow_type": {"a": 1}}', "workflow_type", "must be a string"),
    ("interval-list", b'{"polling_interval_seconds": [5]}', "polling_interval_seconds", "must be a number"),
    # ranges and formats
    ("job-id-empty", b'{"job_id": ""}', "job_id", "1 to 100"),
    ("job-id-too-long", b'{"job_id": "' + b"a" * 101 + b'"}', "job_id", "1 to 100"),
    ("job-id-leading-dash", b'{"job_id": "-abc"}', "job_id", "must start with"),
    ("job-id-slash", b'{"job_id": "a/b"}', "job_id", "must start with"),
    ("job-id-space", b'{"job_id": "a b"}', "job_id", "must start with"),
    ("job-id-question-mark", b'{"job_id": "a?b"}', "job_id", "must start with"),
    ("interval-zero", b'{"polling_interval_seconds": 0}', "polling_interval_seconds", "between 1 and 86400"),
    ("interval-fraction", b'{"polling_interval_seconds": 0.5}', "polling_interval_seconds", "between 1 and 86400"),
    (
        "interval-over-a-day",
        b'{"polling_interval_seconds": 86401, "timeout_seconds": 604800}',
        "polling_interval_seconds",
        "between 1 and 86400",
    ),
    (
        "interval-above-default-timeout",
        b'{"polling_interval_seconds": 31}',
        "polling_interval_seconds",
        "greater than timeout_seconds (30)",
    ),
    (
        "interval-above-timeout",
        b'{"polling_interval_seconds": 10, "timeout_seconds": 5}',
        "polling_interval_seconds",
        "greater than timeout_seconds (5)",
    ),
    ("timeout-zero", b'{"timeout_seconds": 0}', "timeout_seconds", "between 1 and 604800"),
    ("timeout-negative", b'{"timeout_seconds": -30}', "timeout_seconds", "between 1 and 604800"),
    ("timeout-over-a-week", b'{"timeout_seconds": 604801}', "timeout_seconds", "between 1 and 604800"),
    ("batch-zero", b'{"batch_size": 0}', "batch_size", "between 1 and 1000000"),
    ("batch-too-big", b'{"batch_size": 1000001}', "batch_size", "between 1 and 1000000"),
    ("batch-huge-int", b'{"batch_size": 1' + b"0" * 400 + b"}", "batch_size", "between 1 and 1000000"),
    ("failure-rate-negative", b'{"failure_rate": -0.1}', "failure_rate", "between 0 and 1"),
    ("failure-rate-above-one", b'{"failure_rate": 1.01}', "failure_rate", "between 0 and 1"),
    ("threshold-above-one", b'{"error_rate_threshold": 1.5}', "error_rate_threshold", "between 0 and 1"),
    ("duration-negative", b'{"simulated_duration_seconds": -1}', "simulated_duration_seconds", "between 0 and 604800"),
    ("duration-too-long", b'{"simulated_duration_seconds": 604801}', "simulated_duration_seconds", "between 0 and 604800"),
    ("workflow-empty", b'{"workflow_type": ""}', "workflow_type", "1 to 64"),
    ("workflow-too-long", b'{"workflow_type": "' + b"w" * 65 + b'"}', "workflow_type", "1 to 64"),
    ("workflow-control-char", b'{"workflow_type": "a\\nb"}', "workflow_type", "control characters"),
    ("workflow-lone-surrogate", b'{"workflow_type": "a\\ud800"}', "workflow_type", "surrogates"),
    ("strategy-unknown", b'{"wait_strategy": "sleep"}', "wait_strategy", "'activity', 'timer'"),
    ("strategy-wrong-case", b'{"wait_strategy": "Timer"}', "wait_strategy", "'activity', 'timer'"),
    ("outcome-unknown", b'{"simulated_outcome": "success"}', "simulated_outcome", "'completed', 'failed', 'stalled'"),
    # unknown and duplicate fields
    ("unknown-field", b'{"jobid": "x"}', "jobid", "unknown field"),
    ("duplicate-field", b'{"job_id": "a", "job_id": "b"}', "job_id", "duplicate field"),
    # the body as a whole
    ("array-body", b"[]", None, "JSON object"),
    ("string-body", b'"job"', None, "JSON object"),
    ("number-body", b"42", None, "JSON object"),
    ("null-body", b"null", None, "JSON object"),
    ("true-body", b"true", None, "JSON object"),
    ("truncated-json", b'{"job_id": "a"', None, "valid JSON"),
    ("not-json", b"job_id=abc", None, "valid JSON"),
    ("trailing-garbage", b"{} {}", None, "valid JSON"),
    ("not-utf8", b'{"job_id": "\xff\xfe"}', None, "UTF-8"),
    ("deep-nesting", b"[" * 30000 + b"]" * 30000, None, "valid JSON"),
    ("oversized", b'{"workflow_type": "' + b"a" * (64 * 1024) + b'"}', None, "at most 65536 bytes"),
] + [
    # null is never a value
    (f"{name}-null", b'{"' + name.encode() + b'": null}', name, "not null")
    for name in FIELDS
]
