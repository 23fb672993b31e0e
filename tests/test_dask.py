"""The job grid on a real Dask cluster: a scheduler and two worker processes on 127.0.0.1."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlrun import api
from tests.helpers import classification_csv, write_project

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster():
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip("dask command not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    time.sleep(2)
    for _ in range(2):
        procs.append(subprocess.Popen([str(dask), "worker", address, "--nthreads", "1",
                                       "--no-dashboard", "--host", "127.0.0.1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
    yield address
    for proc in reversed(procs):
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_dask_backend_gives_the_local_scores(tmp_path, dask_cluster):
    csv = classification_csv(tmp_path / "data.csv")
    spec = {"evaluation": {"folds": 3, "repeats": 2, "seed": 1}, "views": ["raw", "standardize"]}
    local = write_project(tmp_path, "local", {"source": str(csv), "target": "label"}, **spec)
    remote = write_project(tmp_path, "remote", {"source": str(csv), "target": "label"}, **spec)
    only = ["baseline", "linear", "random_forest", "xgboost"]
    a = api.evaluate(local, only=only)
    b = api.evaluate(remote, only=only, backend="dask", scheduler=dask_cluster)
    # linear on both views; baseline, random_forest and xgboost once for both (invariant)
    assert b["jobs"]["computed"] == a["jobs"]["computed"] == (1 + 2 + 1 + 1) * 6
    assert [(r["algorithm"], r["view"], r["scores"]) for r in a["rows"]] == \
           [(r["algorithm"], r["view"], r["scores"]) for r in b["rows"]]
    again = api.evaluate(remote, only=only, backend="dask", scheduler=dask_cluster)
    assert again["jobs"]["reused"] == again["jobs"]["total"]


def test_unreachable_scheduler_is_bad_input(tmp_path):
    from dlrun.errors import ArgumentError

    csv = classification_csv(tmp_path / "data.csv")
    project = write_project(tmp_path, "p", {"source": str(csv), "target": "label"},
                            evaluation={"folds": 3, "repeats": 1, "seed": 1})
    with pytest.raises(ArgumentError) as info:
        api.evaluate(project, only=["baseline"], backend="dask",
                     scheduler=f"tcp://127.0.0.1:{_free_port()}")
    assert info.value.field == "--scheduler"
