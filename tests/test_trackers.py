"""Experiment trackers on the evaluation callbacks: MLflow (one run per candidate, and the
final model) and TensorBoard (event files per net and fold); optional, imported on request."""

from __future__ import annotations

import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from dlrun import api
from dlrun.cli import main
from dlrun.evaluation.candidates import Candidate
from tests.helpers import classification_csv, write_project

FAST = {"evaluation": {"folds": 3, "repeats": 1, "seed": 1}}
HAS_MLFLOW = importlib.util.find_spec("mlflow") is not None
HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None
needs_mlflow = pytest.mark.skipif(not HAS_MLFLOW, reason="MLflow is not installed (the 'tracking' "
                                                         "extra: pip install 'dlrun[tracking]')")
needs_tensorboard = pytest.mark.skipif(not HAS_TENSORBOARD, reason="TensorBoard is not installed "
                                       "(the 'tracking' extra: pip install 'dlrun[tracking]')")


def _project(root: Path, name: str = "shop", **spec) -> Path:
    csv = classification_csv(root / "data.csv", n=90)
    return write_project(root, name, {"source": str(csv), "target": "label"}, **{**FAST, **spec})


def _events(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """The scalars of the TensorBoard event files in ``folder``: tag -> [(step, value)],
    read record by record (TFRecord framing) without TensorFlow."""
    from tensorboard.compat.proto.event_pb2 import Event

    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data, at = path.read_bytes(), 0
        while at < len(data):
            (length,) = struct.unpack_from("<Q", data, at)
            event = Event.FromString(data[at + 12 : at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


# --------------------------------------------------------------------------- MLflow


@needs_mlflow
def test_mlflow_logs_one_run_per_candidate_with_params_and_fold_scores(tmp_path, monkeypatch):
    import mlflow
    from mlflow import MlflowClient

    monkeypatch.chdir(tmp_path)
    project = _project(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    board = api.evaluate(project, only=["linear", "cart"], mlflow=uri)
    client = MlflowClient(tracking_uri=uri)
    mlflow.set_tracking_uri(uri)
    try:
        runs = mlflow.search_runs(experiment_names=["shop"])
    finally:
        mlflow.set_tracking_uri(None)
    names = runs["tags.mlflow.runName"].tolist()
    assert len(names) == len(set(names))  # one run per candidate, none twice
    rows = [r for r in board["rows"] if r["algorithm"] in ("linear", "cart")]
    assert {f"{r['algorithm']}/{r['view']}" for r in rows} <= set(names)
    ensembles = [r for r in board["rows"] if r.get("role") == "ensemble"]
    assert ensembles  # made from the stored predictions: a run each, from the leaderboard
    assert set(runs["tags.dlrun.algorithm"]) == {"linear", "cart", *(r["algorithm"] for r in ensembles)}
    assert set(runs["status"]) == {"FINISHED"}
    by_name = runs.set_index("tags.mlflow.runName")
    for row in rows:
        run = by_name.loc[f"{row['algorithm']}/{row['view']}"]
        assert run["params.algorithm"] == row["algorithm"] and run["params.view"] == row["view"]
        assert run["metrics.accuracy"] == pytest.approx(row["mean"], abs=1e-6)
        history = client.get_metric_history(run["run_id"], "fold_accuracy")
        assert [h.step for h in history] == [1, 2, 3]
        assert [h.value for h in history] == pytest.approx(row["scores"], abs=1e-6)
    for row in ensembles:
        run = by_name.loc[f"{row['algorithm']}/{row['view']}"]
        assert run["tags.dlrun.role"] == "ensemble" and "linear/" in run["params.members"]
        history = client.get_metric_history(run["run_id"], "fold_accuracy")
        assert [h.value for h in history] == pytest.approx(row["scores"], abs=1e-6)
    linear = by_name.loc[next(f"linear/{r['view']}" for r in rows if r["algorithm"] == "linear")]
    assert "params.C" in runs.columns and linear["params.C"]  # every parameter, defaults too
    # evaluated again (every fit from the store): still one run per candidate; another
    # protocol (other fits) gets runs of its own
    api.evaluate(project, only=["linear", "cart"], mlflow=uri)
    experiment = client.get_experiment_by_name("shop").experiment_id
    assert len(client.search_runs([experiment])) == len(runs)
    _project(tmp_path, evaluation={"folds": 4, "repeats": 1, "seed": 1})
    api.evaluate(project, only=["cart"], mlflow=uri)
    cart = client.search_runs([experiment], "tags.`dlrun.algorithm` = 'cart'")
    assert sorted(r.data.tags["dlrun.folds"] for r in cart) == ["3", "4"]


@needs_mlflow
def test_mlflow_on_report_logs_the_final_model(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    project = _project(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    api.evaluate(project, only=["linear"])
    result = CliRunner().invoke(main, ["report", str(project), "--portfolio", str(tmp_path / "pf"),
                                       "--mlflow", uri])
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("shop")
    (run,) = client.search_runs([experiment.experiment_id], "tags.`dlrun.role` = 'final_model'")
    assert run.data.params["algorithm"] == "linear"
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"model", "README.md", "results.json"}
    assert "manifest.json" in {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "model")}
    # the artifacts beside the SQLite file, not in whatever folder the command ran from
    assert (tmp_path / "mlruns").is_dir() and not any((tmp_path / "cwd").iterdir())


def test_missing_libraries_exit_2_naming_the_option_and_extra(tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    for option in (["--mlflow"], ["--tensorboard", str(tmp_path / "tb")]):
        result = CliRunner().invoke(main, ["evaluate", str(project), "--only", "baseline", *option])
        assert result.exit_code == 2, result.output
        assert option[0] in result.output and "dlrun[tracking]" in result.output
        assert "Traceback" not in result.output
    from dlrun.stages.base import STATE_DIR

    assert not (project / STATE_DIR / "results.sqlite").exists()  # refused before any fit


@needs_mlflow
def test_an_unusable_mlflow_store_exits_2_before_any_fit(tmp_path):
    project = _project(tmp_path)
    result = CliRunner().invoke(main, ["evaluate", str(project), "--only", "baseline",
                                       "--mlflow", "nosuchscheme://somewhere"])
    assert result.exit_code == 2, result.output
    assert "--mlflow" in result.output and "Traceback" not in result.output


def test_trackers_are_imported_only_when_asked(tmp_path):
    project = _project(tmp_path)
    code = f"""
import sys
from dlrun import api
api.evaluate({str(project)!r}, only=["baseline"])
print(",".join(m for m in ("mlflow", "tensorboard") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1:] in ([""], [])


# --------------------------------------------------------------------------- TensorBoard


@needs_tensorboard
def test_tensorboard_writes_each_folds_curves(tmp_path):
    from dlrun.evaluation.trackers import TensorBoardTracker

    run = SimpleNamespace(spec=SimpleNamespace(name="shop"))
    tracker = TensorBoardTracker(run, tmp_path / "tb")
    candidate = Candidate("mlp", "standardize", {})
    curves = {"epoch": [1, 2, 3], "loss": [0.9, 0.7, 0.6], "val_loss": [1.0, 0.8, 0.75],
              "val_metric": [0.6, 0.7, 0.72], "metric": "accuracy"}
    for fold in ("r0f0", "r0f1"):
        job = SimpleNamespace(candidate=candidate, fold_id=fold)
        tracker.on_job_end(job, {"metrics": {}, "extra": {"curves": curves}}, False)
    tracker.on_job_end(SimpleNamespace(candidate=Candidate("linear", "raw", {}), fold_id="r0f0"),
                       {"metrics": {}}, False)  # no curves (not a net): nothing written
    assert tracker.failed is None
    folders = sorted(p.parent.relative_to(tmp_path / "tb").as_posix()
                     for p in (tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert folders == ["shop/mlp/standardize/r0f0", "shop/mlp/standardize/r0f1"]
    scalars = _events(tmp_path / "tb" / "shop" / "mlp" / "standardize" / "r0f0")
    assert scalars["loss"] == [(1, pytest.approx(0.9)), (2, pytest.approx(0.7)), (3, pytest.approx(0.6))]
    assert [v for _, v in scalars["val_accuracy"]] == pytest.approx([0.6, 0.7, 0.72])
    assert len(scalars["val_loss"]) == 3


@pytest.mark.slow
@needs_tensorboard
def test_tensorboard_on_evaluate_leaves_event_files_for_each_net(tmp_path):
    project = _project(tmp_path, params={"mlp": {"epochs": 4}})
    result = CliRunner().invoke(main, ["evaluate", str(project), "--only", "linear,mlp",
                                       "--tensorboard", str(tmp_path / "tb"), "--json"])
    assert result.exit_code == 0, result.output
    board = json.loads(result.stdout)
    nets = [r for r in board["rows"] if r["algorithm"] == "mlp"]
    assert nets
    for row in nets:
        folds = sorted(p.name for p in (tmp_path / "tb" / "shop" / "mlp" / row["view"]).iterdir())
        assert folds == ["r0f0", "r0f1", "r0f2"]
        for fold in folds:
            scalars = _events(tmp_path / "tb" / "shop" / "mlp" / row["view"] / fold)
            assert scalars["loss"] and scalars["val_loss"]
    assert not (tmp_path / "tb" / "shop" / "linear").exists()  # only the nets
