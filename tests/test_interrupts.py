"""SIGINT and SIGTERM in every phase of a run: exit 130 / 143, a message, nothing finished lost.

No test here guesses with the clock: the run is held at a named point
(``DLRUN_HOLD``, see dlrun.interrupts) and the signal is sent once the run
says it is there, so what was kept is known exactly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlrun.cli import main
from dlrun.evaluation.store import ResultStore
from tests.helpers import classification_csv, write_project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

EXE = Path(sys.executable).with_name("dlrun")


def start(args, hold: str, marker: Path, *, ignore_sigint: bool = False) -> subprocess.Popen:
    env = dict(os.environ, DLRUN_HOLD=f"{hold}={marker}")

    def inherit_ignored_sigint():  # what a background job of a non-interactive shell gets
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen([str(EXE), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=inherit_ignored_sigint if ignore_sigint else None)


def wait_for(marker: Path, proc: subprocess.Popen, limit: float = 300.0) -> None:
    """Until the run writes its marker (an event; the limit only guards against a hang)."""
    deadline = time.monotonic() + limit
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the run ended ({proc.returncode}) before its hold point:\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the run never reached its hold point")
        time.sleep(0.02)


def stop(proc: subprocess.Popen, sig: int) -> tuple[int, str]:
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def stored(project: Path) -> int:
    path = project / ".dlrun" / "results.sqlite"
    if not path.exists():
        return 0
    with ResultStore(path) as store:
        return store.count()


@pytest.fixture
def project(tmp_path):
    csv = classification_csv(tmp_path / "data.csv", n=200)
    return write_project(tmp_path, "p", {"source": str(csv), "target": "label"},
                         evaluation={"folds": 5, "repeats": 2, "seed": 1})


@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "Interrupted"),
                                             (signal.SIGTERM, 143, "Terminated")])
def test_signal_during_fits_keeps_exactly_the_finished_fits(project, tmp_path, sig, code, word):
    marker = tmp_path / "held"
    proc = start(["evaluate", project, "--only", "baseline,cart"], "fits:5", marker)
    wait_for(marker, proc)
    returncode, err = stop(proc, sig)
    assert returncode == code, err
    assert word in err and "Traceback" not in err
    assert stored(project) == 5
    result = CliRunner().invoke(main, ["evaluate", str(project), "--only", "baseline,cart", "--json"])
    assert result.exit_code == 0, result.output
    # baseline and cart stand for the four views (one fit each): 2 x 10 folds
    assert '"reused": 5' in result.output and '"computed": 15' in result.output


def test_sigint_is_honoured_when_the_process_inherited_it_ignored(project, tmp_path):
    # A run started from a background job of a non-interactive shell inherits SIGINT
    # ignored; dlrun installs its own handler, so the interrupt still stops it.
    marker = tmp_path / "held"
    proc = start(["evaluate", project, "--only", "baseline,cart"], "fits:3", marker,
                 ignore_sigint=True)
    wait_for(marker, proc)
    returncode, err = stop(proc, signal.SIGINT)
    assert returncode == 130, err
    assert stored(project) == 3


def test_signal_before_any_work(project, tmp_path):
    marker = tmp_path / "held"
    proc = start(["evaluate", project], "start", marker)
    wait_for(marker, proc)
    returncode, err = stop(proc, signal.SIGTERM)
    assert returncode == 143 and "Traceback" not in err
    assert stored(project) == 0


def test_signal_while_a_process_pool_fits(project, tmp_path):
    marker = tmp_path / "held"
    proc = start(["evaluate", project, "--only", "baseline,cart,linear", "--jobs", "2"],
                 "fits:4", marker)
    wait_for(marker, proc)
    returncode, err = stop(proc, signal.SIGINT)
    assert returncode == 130, err
    assert "Traceback" not in err
    assert stored(project) == 4


def test_signal_during_report_writes_no_entry(project, tmp_path):
    assert CliRunner().invoke(main, ["evaluate", str(project), "--only", "baseline,cart"]).exit_code == 0
    marker, portfolio = tmp_path / "held", tmp_path / "portfolio"
    proc = start(["report", project, "--portfolio", portfolio], "report", marker)
    wait_for(marker, proc)
    returncode, err = stop(proc, signal.SIGTERM)
    assert returncode == 143, err
    assert not (portfolio / "p" / "results.json").exists()


@pytest.mark.slow
@pytest.mark.deep
def test_signal_after_the_nets_trained(project, tmp_path):
    pytest.importorskip("tensorflow")
    marker = tmp_path / "held"
    proc = start(["evaluate", project, "--quick", "--only", "baseline,mlp"], "fits:7", marker)
    wait_for(marker, proc)
    returncode, err = stop(proc, signal.SIGINT)
    assert returncode == 130, err
    assert stored(project) == 7


@pytest.mark.slow
def test_signal_while_a_dask_cluster_fits(project, tmp_path):
    pytest.importorskip("distributed")
    marker = tmp_path / "held"
    proc = start(["evaluate", project, "--only", "baseline,cart", "--backend", "dask"], "fits:3",
                 marker)
    wait_for(marker, proc)
    returncode, err = stop(proc, signal.SIGINT)
    assert returncode == 130, err
    assert stored(project) == 3
