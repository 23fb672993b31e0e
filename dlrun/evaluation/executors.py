"""Where jobs run: this process, a local process pool, or a Dask cluster.

An executor takes jobs and the data they share and yields ``(job, result)``
pairs as they finish, in any order; the caller persists each one at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from dlrun.errors import ArgumentError
from dlrun.evaluation.jobs import Job, JobData, run_job


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def resolve_jobs(jobs: int | None) -> int:
    if jobs is None or jobs == 0:
        return 1
    if jobs < 0:
        return max(1, usable_cores() + 1 + jobs)  # -1 = all cores, as in joblib
    return jobs


class LocalExecutor:
    def __init__(self, jobs: int = 1):
        self.jobs = resolve_jobs(jobs)

    def run(self, jobs: list[Job], data: JobData) -> Iterator[tuple[Job, dict]]:
        if self.jobs == 1 or len(jobs) <= 1:
            for job in jobs:
                yield job, run_job(job, data)
            return
        from joblib import Parallel, delayed, parallel_config

        # Each worker gets cores/jobs threads for BLAS/OpenMP/XGBoost/TF so the
        # pool never oversubscribes the machine.
        threads = max(1, usable_cores() // self.jobs)
        with parallel_config(backend="loky", inner_max_num_threads=threads):
            parallel = Parallel(n_jobs=self.jobs, return_as="generator_unordered", batch_size=1)
            results = parallel(delayed(_run_indexed)(i, job, data) for i, job in enumerate(jobs))
            for index, result in results:
                yield jobs[index], result


def _run_indexed(index: int, job: Job, data: JobData):
    return index, run_job(job, data)


def make_executor(backend: str = "local", jobs: int | None = 1, scheduler: str | None = None):
    if backend == "local":
        if scheduler:
            raise ArgumentError("--scheduler only applies to --backend dask", field="--scheduler")
        return LocalExecutor(jobs or 1)
    if backend == "dask":
        from dlrun.evaluation.dask_backend import DaskExecutor

        return DaskExecutor(scheduler)
    raise ArgumentError(f"unknown backend '{backend}' (expected local or dask)", field="--backend")
