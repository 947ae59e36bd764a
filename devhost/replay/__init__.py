"""The replay checker: does the current orchestrator code still make the decisions recorded histories show?

Modules, bottom up (no cycle): :mod:`~devhost.replay.model` (recordings, decisions, results),
:mod:`~devhost.replay.runner` (episodes through the engine's ``decide_turn``), :mod:`~devhost.replay.raw`
and :mod:`~devhost.replay.status` (the two recording shapes), :mod:`~devhost.replay.check` (the entry point)
and :mod:`~devhost.replay.sources` (files, status documents, a store, the app).
"""
