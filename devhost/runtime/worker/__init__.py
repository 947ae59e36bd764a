"""Language-worker processes: the app runs in child processes, as under the Functions host.

:mod:`.frames` is the wire between host and worker, :mod:`.child` the worker's side (imports the app, runs
invocations with the in-process :class:`~devhost.runtime.invoker.Invoker`), :mod:`.process` one worker as
the host sees it, :mod:`.pool` the :class:`~devhost.runtime.worker.pool.WorkerInvoker` the engine and the HTTP
routes call (it picks a worker, enforces ``functionTimeout``, replaces a worker that died).
"""
