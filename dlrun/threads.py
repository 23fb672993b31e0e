"""How many threads a fit may use: the budget shared by the executors and the algorithms."""

from __future__ import annotations

import os


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def thread_budget() -> int:
    """Threads one fit may use: cores/N in a worker of ``--jobs N`` or on a Dask
    worker (``DLRUN_THREADS``, set by the executor), every core in this process
    otherwise. Forests and XGBoost read it; their results do not depend on it."""
    threads = os.environ.get("DLRUN_THREADS", "")
    return int(threads) if threads.isdigit() and int(threads) > 0 else usable_cores()


#: Below this many rows a fit stays on one thread: a forest or XGBoost on a few
#: hundred rows gains nothing from a second thread (measured: Pima-sized random
#: forest 0.63 s either way) and loses to the synchronisation when TensorFlow's
#: threads share the process (XGBoost 0.12 -> 0.21 s a fold in the Pima bench).
MIN_ROWS_FOR_THREADS = 2_000


def fit_threads(n_rows: int) -> int:
    """Threads for one fit on ``n_rows`` rows (see :func:`thread_budget`)."""
    return thread_budget() if n_rows >= MIN_ROWS_FOR_THREADS else 1
