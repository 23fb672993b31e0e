"""Run the job grid on a Dask distributed cluster.

The same job groups the local executor runs are submitted as Dask futures; the
data they share is scattered to the workers once. Results come back as they
finish and the caller persists each one at once, exactly as locally, so an
interrupted distributed run keeps what finished too. Workers need dlrun and its
dependencies installed (the same environment as the client).

Without ``--scheduler`` a local cluster (one single-threaded worker process per
core) is started for the duration of the run.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlrun.errors import ArgumentError, DlrunError
from dlrun.evaluation.jobs import Job, JobData, run_group


class DaskExecutor:
    def __init__(self, scheduler: str | None = None, timeout: float = 30.0,
                 deadline: float | None = None):
        self.scheduler = scheduler
        self.timeout = timeout
        self.deadline = deadline  # monotonic time after which no result is waited for
        self.out_of_time = False

    def _client(self):
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - depends on the install
            raise DlrunError("--backend dask needs the 'dask' extra: pip install 'dlrun[dask]'") from None
        if self.scheduler:
            try:
                return Client(self.scheduler, timeout=self.timeout), None
            except (OSError, TimeoutError, ValueError) as err:
                raise ArgumentError(
                    f"cannot reach the Dask scheduler at {self.scheduler}: {err}",
                    field="--scheduler",
                    hint="Start one with `dask scheduler` and workers with `dask worker ADDR`.",
                ) from None
        from dlrun.threads import usable_cores

        cluster = LocalCluster(n_workers=usable_cores(), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster

    def run(self, groups: list[list[Job]], data: JobData, admit=None, in_order: bool = False
            ) -> Iterator[tuple[list[Job], list[dict]]]:
        # every group is submitted at once (``in_order`` is the order they are sent in);
        # results of a candidate stopped meanwhile are dropped on arrival
        from distributed import as_completed

        client, cluster = self._client()
        futures = []
        try:
            shared = client.scatter(data, broadcast=True)
            if admit is not None:
                groups = [g for g in (admit(group) for group in groups) if g]
            futures = [client.submit(_run_on_worker, group, shared, pure=False) for group in groups]
            index = {future.key: group for future, group in zip(futures, groups, strict=True)}
            import time

            remaining = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
            try:
                for future in as_completed(futures, timeout=remaining):
                    yield index[future.key], future.result()
            except TimeoutError:
                self.out_of_time = True  # the finally below cancels what is left
        finally:
            if futures:
                client.cancel(futures)
            client.close()
            if cluster is not None:
                cluster.close()


def _run_on_worker(group: list[Job], data: JobData) -> list[dict]:
    """One task per worker thread: each fit keeps to one thread (start workers with
    as many threads or processes as the machine has cores)."""
    import os

    os.environ["DLRUN_THREADS"] = "1"
    return run_group(group, data)
