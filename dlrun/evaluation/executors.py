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

    def run(self, groups: list[list[Job]], data: JobData, admit=None
            ) -> Iterator[tuple[list[Job], list[dict]]]:
        """``admit(group)``: the jobs of a group to run now, asked just before it is sent
        (jobs of stopped candidates or claimed by another evaluation left out)."""
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
            for i in sorted(range(len(groups)), key=lambda i: -len(groups[i])):
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


def make_executor(backend: str = "local", jobs: int | None = 1, scheduler: str | None = None):
    if backend == "local":
        if scheduler:
            raise ArgumentError("--scheduler only applies to --backend dask", field="--scheduler")
        return LocalExecutor(jobs or 1)
    if backend == "dask":
        from dlrun.evaluation.dask_backend import DaskExecutor

        return DaskExecutor(scheduler)
    raise ArgumentError(f"unknown backend '{backend}' (expected local or dask)", field="--backend")
