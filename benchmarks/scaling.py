"""How the cost of a turn grows with an instance's history: SDK ms per episode and host ms per turn at several K.

    python benchmarks/scaling.py [--k 10,100,1000] [--sample-above 100] [--sample-every 20] [--json]

For each K, one instance of the peer harness's monitor workload (benchmarks/peer_app: K checks, a 0 s timer
between them) runs on devhost (SQLite file store, real clock, timestamp memo on); the history grows by
about 8 events per check. Reported per K:

- host ms per turn: wall time of the run / turns, and the same without the time spent inside the SDK's
  ``handle`` (the host's own work: loading the turn, building the context, committing, dispatching);
- SDK ms per episode: the host's own episodes replayed through the SDK alone, as published ("plain") and with
  the memo. For K above ``--sample-above`` only episodes 1, 1+S, 1+2S, ... and the last 10 are replayed
  (as the peer harness's ``floor_df_replay.py --scaling`` does); "mean" is over the uniform sample, "last 10"
  over the longest histories, and the per-event figure divides "last 10" by the final history length.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

from benchkit import contexts_of, replay_floor
from devhost_run import run_host

HERE = Path(__file__).resolve().parent
APP_DIR = HERE / "peer_app"
ORCHESTRATOR = "monitor"


def sampler(total: int, every: int) -> Callable[[int], bool]:
    return lambda index: index % every == 0 or index >= total - 10


def measure(k: int, sample_above: int, every: int) -> dict[str, Any]:
    run = asyncio.run(run_host(APP_DIR, ORCHESTRATOR, {f"scale-{k}": {"job_id": f"scale-{k}", "k": k}}))
    ((instance_id, history),) = run.histories.items()
    output = json.loads(run.instances[instance_id].output or "null")
    if output != {"job_id": instance_id, "final_status": "completed", "checks_performed": k}:
        raise AssertionError(f"K={k} ended with {output}")
    contexts = list(contexts_of(run.instances[instance_id], history, run.replay_settings))
    every = every if k > sample_above else 1
    pick = sampler(len(contexts), every)
    uniform = [i for i in range(len(contexts)) if i % every == 0]
    row: dict[str, Any] = {
        "K": k, "turns": run.turns, "history_events_final": len(history), "sdk_sampled_every": every,
        "host_s": run.wall_seconds, "host_ms_per_turn": 1000 * run.wall_seconds / run.turns,
        "host_only_ms_per_turn": 1000 * (run.wall_seconds - run.sdk_seconds) / run.turns,
        "host_only_cpu_ms_per_turn": 1000 * (run.cpu_seconds - run.sdk_cpu_seconds) / run.turns,
        "sdk_in_host_ms_per_turn": 1000 * run.sdk_seconds / run.turns,
    }  # fmt: skip
    for name, memo in (("plain", False), ("memo", True)):
        floor = replay_floor(run.handle, contexts, memo=memo, sample=pick)
        timed = dict(zip([i for i in range(len(contexts)) if pick(i)], floor.per_episode))
        last = [timed[i] for i in range(max(0, len(contexts) - 10), len(contexts))]
        row[f"sdk_{name}_ms_per_episode"] = 1000 * statistics.fmean(timed[i] for i in uniform)
        row[f"sdk_{name}_ms_per_episode_last10"] = 1000 * statistics.fmean(last)
        row[f"sdk_{name}_us_per_event_last10"] = 1e6 * statistics.fmean(last) / len(history)
        row[f"sdk_{name}_s_per_instance_est"] = statistics.fmean(timed[i] for i in uniform) * len(contexts)
    row["memo_speedup"] = row["sdk_plain_ms_per_episode"] / row["sdk_memo_ms_per_episode"]
    return row


def table(rows: list[dict[str, Any]]) -> str:
    columns = [
        ("K", "K", "{}"), ("turns", "turns", "{}"), ("history_events_final", "events (final)", "{}"),
        ("host_ms_per_turn", "host ms/turn", "{:.2f}"), ("host_only_ms_per_turn", "host-only ms/turn", "{:.2f}"),
        ("host_only_cpu_ms_per_turn", "host-only CPU ms/turn", "{:.2f}"),
        ("sdk_plain_ms_per_episode", "SDK plain ms/ep", "{:.2f}"), ("sdk_memo_ms_per_episode", "SDK memo ms/ep", "{:.2f}"),
        ("memo_speedup", "memo speed-up", "{:.1f}x"),
        ("sdk_plain_us_per_event_last10", "plain us/event", "{:.1f}"),
        ("sdk_memo_us_per_event_last10", "memo us/event", "{:.1f}"),
        ("sdk_sampled_every", "SDK sampled 1 in", "{}"),
    ]  # fmt: skip
    cells = [[fmt.format(row[key]) for key, _, fmt in columns] for row in rows]
    widths = [max(len(title), *(len(c[i]) for c in cells)) for i, (_, title, _) in enumerate(columns)]
    lines = [
        "| " + " | ".join(title.rjust(w) for (_, title, _), w in zip(columns, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.rjust(w) for c, w in zip(cell, widths)) + " |" for cell in cells]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--k", default="10,100,1000", help="comma list of K (default 10,100,1000)")
    parser.add_argument("--sample-above", type=int, default=100, help="sample SDK replays for K above this (100)")
    parser.add_argument("--sample-every", type=int, default=20, help="replay 1 episode in S, plus the last 10 (20)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    try:
        ks = [int(k) for k in args.k.split(",")]
    except ValueError:
        parser.error(f"--k must be a comma list of integers, got {args.k!r}")
    if any(k < 1 for k in ks):
        parser.error("every K must be at least 1")
    rows = []
    for k in ks:
        rows.append(measure(k, args.sample_above, args.sample_every))
        print(f"K={k} done", file=sys.stderr, flush=True)
    print(json.dumps(rows) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
