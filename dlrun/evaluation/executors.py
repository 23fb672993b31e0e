"""Where jobs run: this process, a local process pool, or a Dask cluster.

An executor takes groups of jobs (the jobs of one view and fold, or the folds
of one candidate that train together) and the data they share, and yields
``(group, results)`` as groups finish, in any order; the caller persists each
result at once. Every executor runs a group through the one job path,
:func:`dlrun.evaluation.jobs.run_group`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from dlrun.errors import ArgumentError
from dlrun.evaluation.jobs import Job, JobData, iter_group, run_group
from dlrun.threads import fit_threads, thread_budget, usable_cores  # noqa: F401 (re-exported)


def resolve_jobs(jobs: int | None) -> int:
    """Worker processes for ``--jobs``: -1 = every core (as in joblib), never more processes
    than the cores this process may use (more only queue for the same cores)."""
    if jobs is None or jobs == 0:
        return 1
    if jobs < 0:
        return max(1, usable_cores() + 1 + jobs)
    return min(jobs, usable_cores())


class LocalExecutor:
    def __init__(self, jobs: int = 1):
        self.jobs = resolve_jobs(jobs)

    def run(self, groups: list[list[Job]], data: JobData, admit=None, in_order: bool = False
            ) -> Iterator[tuple[list[Job], list[dict]]]:
        """``admit(group)``: the jobs of a group to run now, asked just before it is sent
        (jobs of stopped candidates or claimed by another evaluation left out). A pool
        sends the biggest groups first unless ``in_order`` (racing needs the given order)."""
        admit = admit or (lambda group: group)
        if self.jobs == 1 or len(groups) <= 1:
            for group in groups:  # job by job, so an interrupt loses at most one fit
                group = admit(group)
                if group:
                    yield from iter_group(group, data)
            return
        from joblib import Parallel, delayed, parallel_config

        # Each worker gets cores/jobs threads for BLAS/OpenMP/XGBoost/TF so the
        # pool never oversubscribes the machine.
        threads = max(1, usable_cores() // self.jobs)
        sent: dict[int, list[Job]] = {}

        def tasks():  # pulled lazily as workers free up: admission happens at sending time
            for i in sorted(range(len(groups)), key=lambda i: i if in_order else -len(groups[i])):
                group = admit(groups[i])  # the biggest groups first, so the pool does not end on one
                if group:
                    sent[i] = group
                    yield delayed(_run_indexed)(i, group, data)

        with parallel_config(backend="loky", inner_max_num_threads=threads):
            parallel = Parallel(n_jobs=self.jobs, return_as="generator_unordered", batch_size=1)
            for index, result in parallel(tasks()):
                yield sent.pop(index), result


def _run_indexed(index: int, group: list[Job], data: JobData):
    os.environ["DLRUN_THREADS"] = os.environ.get("OMP_NUM_THREADS") or "1"  # set by loky: cores/jobs
    return index, run_group(group, data)


#: Messages of an isolated child: ("start", job index) before each fit, ("done", [job
#: indices], [results]) after it (several indices when folds train together).
_START, _DONE = "start", "done"


class IsolatedExecutor:
    """Fits in worker processes that can be stopped: a fit that runs past ``fit_timeout``
    seconds has its worker killed and is reported as failed (a new worker takes the rest
    of its group), and at the ``deadline`` every worker is killed and nothing more is
    started (what finished is kept). ``jobs`` workers, forked once each and kept for the
    whole run (their fitted views and warm libraries with them). The parent fits nothing
    itself, so forking it is safe (no OpenMP or TensorFlow threads in it)."""

    def __init__(self, jobs: int = 1, fit_timeout: float | None = None, deadline: float | None = None):
        self.jobs = resolve_jobs(jobs)
        self.fit_timeout = fit_timeout
        self.deadline = deadline
        self.out_of_time = False  # the deadline stopped the run

    def run(self, groups: list[list[Job]], data: JobData, admit=None, in_order: bool = False
            ) -> Iterator[tuple[list[Job], list[dict]]]:
        import multiprocessing
        import time
        from multiprocessing.connection import wait

        from dlrun.evaluation.jobs import failure

        admit = admit or (lambda group: group)
        context = multiprocessing.get_context("fork")
        threads = max(1, usable_cores() // self.jobs)
        todo = list(groups)
        workers: dict = {}  # connection -> {"process", "group", "running", "started"}

        def spawn() -> None:
            parent, child = context.Pipe(duplex=True)
            process = context.Process(target=_isolated_worker, args=(data, child, threads), daemon=True)
            process.start()
            child.close()
            workers[parent] = {"process": process, "group": None, "running": None, "started": 0.0}

        def kill(connection) -> None:
            state = workers.pop(connection)
            state["process"].kill()
            state["process"].join()
            connection.close()

        def give(connection) -> bool:
            while todo:
                group = admit(todo.pop(0))
                if group:
                    workers[connection].update(group=group, running=None, started=time.monotonic())
                    connection.send(group)
                    return True
            return False

        try:
            for _ in range(min(self.jobs, len(todo))):
                spawn()
            for connection in list(workers):
                if not give(connection):
                    kill(connection)
            while workers:
                now = time.monotonic()
                if self.deadline is not None and now >= self.deadline:
                    self.out_of_time = True
                    return
                limits = [self.deadline - now] if self.deadline is not None else []
                if self.fit_timeout is not None:
                    limits += [state["started"] + self.fit_timeout - now for state in workers.values()
                               if state["group"] is not None]
                for connection in wait(list(workers), timeout=max(0.0, min(limits)) if limits else None):
                    state = workers[connection]
                    group = state["group"]
                    try:
                        kind, indices, results = connection.recv()
                    except EOFError:  # the worker died (killed by the system, a crash)
                        code = state["process"].exitcode
                        at = state["running"] or 0
                        kill(connection)
                        yield [group[at]], [{"error": f"the process fitting it ended (exit code {code}): "
                                                       "out of memory?"}]
                        if group[at + 1:]:
                            todo.insert(0, group[at + 1:])
                        if todo:
                            spawn()
                            give(list(workers)[-1])
                        continue
                    if kind == _START:
                        state.update(running=indices, started=time.monotonic())
                        continue
                    yield [group[i] for i in indices], results
                    if max(indices) == len(group) - 1 and not give(connection):
                        connection.send(None)  # nothing more: the worker ends
                        kill(connection)
                if self.fit_timeout is not None:
                    now = time.monotonic()
                    for connection, state in list(workers.items()):
                        running = state["running"]
                        if running is None or now - state["started"] <= self.fit_timeout:
                            continue
                        group = state["group"]
                        kill(connection)
                        try:
                            raise TimeoutError(f"the fit ran past evaluation.fit_timeout "
                                               f"({self.fit_timeout:g} s) and was stopped")
                        except TimeoutError as err:
                            yield [group[running]], [failure(err)]
                        if group[running + 1:]:
                            todo.insert(0, group[running + 1:])
                        spawn()
                        if not give(list(workers)[-1]):
                            kill(list(workers)[-1])
        finally:
            for connection in list(workers):
                kill(connection)


def _isolated_worker(data: JobData, connection, threads: int) -> None:
    """A worker of :class:`IsolatedExecutor`: runs the groups it is sent, telling the parent
    before each fit and after it; ends on ``None``."""
    os.environ["DLRUN_THREADS"] = str(threads)
    from dlrun.evaluation.jobs import runner_for
    from dlrun.plugins import load_plugins

    load_plugins()
    runner = runner_for(data.kind)
    try:
        while True:
            group = connection.recv()
            if group is None:
                return
            first = group[0].candidate
            if len(group) > 1 and all(j.candidate == first for j in group) and runner.stackable(first, data):
                connection.send((_START, 0, None))
                connection.send((_DONE, list(range(len(group))), runner.run(group, data)))
                continue
            for i, job in enumerate(group):
                connection.send((_START, i, None))
                connection.send((_DONE, [i], runner.run([job], data)))
    except EOFError:
        return
    finally:
        connection.close()


def make_executor(backend: str = "local", jobs: int | None = 1, scheduler: str | None = None,
                  fit_timeout: float | None = None, deadline: float | None = None):
    """The executor of a run; a fit timeout or a deadline runs local fits in child processes
    that can be stopped (:class:`IsolatedExecutor`)."""
    if backend == "local":
        if scheduler:
            raise ArgumentError("--scheduler only applies to --backend dask", field="--scheduler")
        if fit_timeout is not None or deadline is not None:
            return IsolatedExecutor(jobs or 1, fit_timeout, deadline)
        return LocalExecutor(jobs or 1)
    if backend == "dask":
        from dlrun.evaluation.dask_backend import DaskExecutor

        return DaskExecutor(scheduler, deadline=deadline)
    raise ArgumentError(f"unknown backend '{backend}' (expected local or dask)", field="--backend")
