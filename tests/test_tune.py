"""dlrun tune: resumable studies on the leaderboard's folds, pruning through the evaluation
callbacks, tuned rows re-scored on fresh folds, shared studies, and `dlrun run`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dlrun import api
from dlrun.cli import main
from dlrun.evaluation.store import ResultStore
from tests.helpers import classification_csv, write_project

EXE = Path(sys.executable).with_name("dlrun")
ONLY = ["baseline", "linear", "cart"]


@pytest.fixture
def project(tmp_path):
    csv = classification_csv(tmp_path / "data.csv", n=240)
    folder = write_project(tmp_path, "p", {"source": str(csv), "target": "label"},
                           evaluation={"folds": 4, "repeats": 2, "seed": 1})
    api.evaluate(folder, only=ONLY)
    return folder


def tune_json(project, *args) -> dict:
    result = CliRunner().invoke(main, ["tune", str(project), "--json", *map(str, args)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_studies_resume_and_tuned_rows_join_the_leaderboard(project):
    first = tune_json(project, "--top", "2", "--trials", "3")
    assert [(s["algorithm"], s["trials"]) for s in first["studies"]] == [("linear", 3), ("cart", 3)]
    for study in first["studies"]:
        assert {"algorithm", "view", "trials", "best", "best_params"} <= set(study)
        assert study["best"] is not None and study["best_params"]
    second = tune_json(project, "--top", "2", "--trials", "2")
    assert [s["trials"] for s in second["studies"]] == [5, 5]  # the same studies, 2 more trials

    board = api.evaluate(project, only=ONLY)
    tuned = {r["algorithm"]: r for r in board["rows"] if r.get("role") == "tuned"}
    assert set(tuned) == {"linear+tuned", "cart+tuned"}
    for row in tuned.values():
        # re-scored on a fresh resampling: other folds than the ones the trials chose on
        assert row["resampling"] == "seed 1001" and len(row["scores"]) == 8
        assert isinstance(row["tuning_score"], float) and row["trials"] == 5
        assert row["params"]
    assert all(isinstance(r["same_as_best"], bool) for r in board["rows"])
    assert board["jobs"]["computed"] == 0  # the trials' and the fresh folds' fits are reused


def test_a_tuned_winner_is_reported_and_predicts(project, tmp_path):
    tune_json(project, "--top", "1", "--trials", "3")
    board = api.evaluate(project, only=ONLY)
    linear_tuned = next(r for r in board["rows"] if r["algorithm"] == "linear+tuned")
    document = yaml.safe_load((project / "project.yaml").read_text())
    document["algorithms"] = ["linear"]  # so the tuned row is the best one left
    (project / "project.yaml").write_text(yaml.safe_dump(document))
    board = api.evaluate(project)
    assert board["rows"][0]["algorithm"] in ("linear+tuned", "linear")
    entry = api.report(project, portfolio=tmp_path / "pf")
    results = json.loads((entry / "results.json").read_text())
    if board["rows"][0]["algorithm"] == "linear+tuned":
        assert results["final_model"]["params"]["C"] == linear_tuned["params"]["C"]
    new = tmp_path / "rows.csv"
    new.write_text((project.parent / "data.csv").read_text())
    frame = api.predict(entry, new, tmp_path / "pred.csv")
    assert len(frame) == 240


def test_search_spaces_from_the_spec_are_checked_and_used(project):
    document = yaml.safe_load((project / "project.yaml").read_text())
    document["tuning"] = {"search": {"cart": {"max_depth": {"type": "int", "low": 2, "high": 3}}}}
    (project / "project.yaml").write_text(yaml.safe_dump(document))
    result = tune_json(project, "--top", "2", "--trials", "3")
    cart = next(s for s in result["studies"] if s["algorithm"] == "cart")
    assert set(cart["best_params"]) == {"max_depth"} and 2 <= cart["best_params"]["max_depth"] <= 3
    document["tuning"] = {"search": {"cart": {"depth": {"type": "int", "low": 2, "high": 3}}}}
    (project / "project.yaml").write_text(yaml.safe_dump(document))
    refused = CliRunner().invoke(main, ["tune", str(project)])
    assert refused.exit_code == 2 and "tuning.search.cart.depth" in refused.output


def test_tune_before_evaluate_says_what_to_run(tmp_path):
    csv = classification_csv(tmp_path / "data.csv")
    folder = write_project(tmp_path, "q", {"source": str(csv), "target": "label"})
    result = CliRunner().invoke(main, ["tune", str(folder)])
    assert result.exit_code == 2 and "dlrun evaluate" in result.output


def test_an_interrupted_trial_resumes_from_its_finished_folds(project, tmp_path):
    marker = tmp_path / "held"
    env = dict(os.environ, DLRUN_HOLD=f"fits:5={marker}")
    proc = subprocess.Popen([str(EXE), "tune", str(project), "--top", "1", "--trials", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    while not marker.exists():  # the run says when it is held: no guessing with the clock
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    store_path = project / ".dlrun" / "results.sqlite"
    with ResultStore(store_path) as store:
        kept = store.count()
    resumed = tune_json(project, "--top", "1", "--trials", "1")
    assert resumed["studies"][0]["trials"] >= 1
    import optuna

    study = optuna.load_study(study_name=resumed["studies"][0]["study"],
                              storage=f"sqlite:///{project / '.dlrun' / 'tuning.sqlite'}")
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    assert failed, "the interrupted trial is recorded as failed"
    redone = [t for t in study.trials if t.params == failed[0].params and t.state.name != "FAIL"]
    assert redone, "its parameters were tried again"
    with ResultStore(store_path) as store:
        assert store.count() >= kept  # no finished fold was lost


def postgres_binaries() -> Path | None:
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").exists() and (root / "pg_ctl").exists():
            return root
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


@pytest.fixture
def postgres(tmp_path):
    """A PostgreSQL server of the system package on 127.0.0.1, for this test only."""
    pytest.importorskip("psycopg")
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (apt install postgresql)")
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="dlrun-pg-"))  # under /tmp: reachable by another user
    data = home / "pgdata"
    data.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser to start PostgreSQL as another user")
        try:
            import pwd

            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no postgres user to run the server as")
        os.chown(home, user.pw_uid, user.pw_gid)
        os.chown(data, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    def run(*args):
        return subprocess.run([*as_user, *map(str, args)], capture_output=True, text=True, timeout=120)

    init = run(binaries / "initdb", "-D", data, "-A", "trust", "-U", "postgres")
    if init.returncode != 0:
        pytest.skip(f"initdb failed: {init.stderr[-300:]}")
    start = run(binaries / "pg_ctl", "-D", data, "-w", "-l", data / "log",
                "-o", f"-p {port} -h 127.0.0.1 -k {data}", "start")
    if start.returncode != 0:
        pytest.skip(f"PostgreSQL did not start: {start.stderr[-300:]}")
    try:
        made = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c",
                               "CREATE DATABASE dlrun"], capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        yield f"postgresql://postgres@127.0.0.1:{port}/dlrun"
    finally:
        run(binaries / "pg_ctl", "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.slow
def test_two_processes_share_one_postgresql_study(project, postgres):
    procs = [subprocess.Popen([str(EXE), "tune", str(project), "--top", "1", "--trials", "3",
                               "--storage", postgres, "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    studies = [json.loads(out)["studies"][0] for out, _ in outs]
    assert studies[0]["study"] == studies[1]["study"]
    import optuna

    study = optuna.load_study(study_name=studies[0]["study"], storage=postgres)
    finished = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 6  # both processes' trials in the one study
    assert max(s["trials"] for s in studies) == 6


def test_run_evaluates_tunes_and_reports_in_one_go(tmp_path):
    csv = classification_csv(tmp_path / "data.csv", n=160)
    folder = write_project(tmp_path, "r", {"source": str(csv), "target": "label"},
                           algorithms=["baseline", "linear", "cart"],
                           evaluation={"folds": 3, "repeats": 1, "seed": 1},
                           tuning={"top": 1, "trials": 3})
    result = CliRunner().invoke(main, ["run", str(folder), "--portfolio", str(tmp_path / "pf")])
    assert result.exit_code == 0, result.output
    board = json.loads((folder / ".dlrun" / "leaderboard.json").read_text())
    assert any(r.get("role") == "tuned" for r in board["rows"])
    assert (tmp_path / "pf" / "r" / "report.html").is_file()
    assert json.loads((tmp_path / "pf" / "r" / "results.json").read_text())["leaderboard"]["rows"]
