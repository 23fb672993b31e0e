"""Experiment trackers, hung on the evaluation callbacks (:mod:`dlrun.evaluation.callbacks`).

* :class:`MlflowTracker` (``--mlflow [URI]``): one MLflow run per candidate (algorithm,
  view, parameters) in the experiment named after the project -- its every parameter
  (defaults included), each metric's mean and spread over the folds and its value fold by
  fold (``fold_<metric>``, step = the fold's number in the plan), the mean fit time, and
  tags saying how it ended (complete, stopped by racing or pruning, failed) -- and, at
  report time, one run for the final model with the entry's model folder, README.md,
  report.html and results.json as artifacts. A candidate whose every fold came from the
  project's store and that already has a run for the same fits (tag ``dlrun.fits``)
  is not logged again: evaluating twice, or the board ``tune`` rebuilds, leaves one run per
  candidate. Ensembles, made from the stored predictions after the fits, get a run each
  from the leaderboard (:meth:`MlflowTracker.log_board`): members and weights as parameters,
  the fold scores of the metric, every metric's mean. Without a URI the store is MLflow's own
  default: ``MLFLOW_TRACKING_URI`` when set, else a local store in the current folder
  (MLflow 3: ``mlflow.db`` with artifacts under ``mlruns/``), which ``mlflow ui`` and
  ``mlflow.search_runs()`` started in that folder read.
* :class:`TensorBoardTracker` (``--tensorboard DIR``): each net's training curves --
  loss, validation loss and validation metric per epoch, recorded by every fold's fit --
  as TensorBoard event files, ``DIR/PROJECT/ALGORITHM/VIEW/FOLD/``.

Both libraries are optional (the ``tracking`` extra) and imported only when a tracker is
made; a missing one is a :class:`~dlrun.errors.BadInput` naming the option and the extra.
A tracker that fails in the middle of a run (a tracking server gone) says so once and
lets the evaluation go on: the results are in the project's store either way.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dlrun.errors import BadInput
from dlrun.evaluation.callbacks import Callback

EXTRA = "tracking"
INSTALL = f"pip install 'dlrun[{EXTRA}]'"
#: MLflow keeps parameter values up to this many characters on every version we know.
PARAM_LIMIT = 500
#: The most metrics, parameters and tags one MLflow ``log_batch`` call takes.
BATCH_METRICS, BATCH_PARAMS, BATCH_TAGS = 1000, 100, 100


def require(module: str, option: str, what: str):
    """Import ``module`` for ``option``; exit-2 error naming the extra when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise BadInput(f"{option} needs {what}, which is not installed", field=option,
                       hint=f"Install the '{EXTRA}' extra: {INSTALL}") from None


def _plain(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= PARAM_LIMIT else text[: PARAM_LIMIT - 1] + "…"


def _artifacts_beside(uri: str | None) -> str | None:
    """For a SQLite store given by URI, artifacts in ``mlruns/`` beside the database file
    (MLflow would put them under the current folder); None (MLflow's choice) otherwise."""
    if not uri or not uri.startswith("sqlite:///"):
        return None
    database = Path(uri[len("sqlite:///"):])
    return (database.resolve().parent / "mlruns").as_uri() if database.name else None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class _Tracker(Callback):
    """What both trackers share: the project's run context (spec, dataset), and a failure
    that stops the tracker but not the run."""

    option = ""

    def __init__(self, run_context, reporter=None):
        self.run = run_context
        self.reporter = reporter
        self.failed: str | None = None

    @property
    def project(self) -> str:
        return str(self.run.spec.name)

    def _guard(self, fn, *args) -> Any:
        if self.failed is not None:
            return None
        try:
            return fn(*args)
        except Exception as err:  # noqa: BLE001 - tracking must not sink the evaluation
            self.failed = f"{type(err).__name__}: {err}"
            if self.reporter is not None:
                self.reporter.message(f"{self.option}: logging failed ({self.failed}); the run goes "
                                      "on without it", "warning")
            return None


# --------------------------------------------------------------------------- MLflow


class MlflowTracker(_Tracker):
    """One MLflow run per candidate, and one for the final model (:meth:`log_final`)."""

    option = "--mlflow"

    def __init__(self, run_context, uri: str | None = None, reporter=None):
        super().__init__(run_context, reporter)
        require("mlflow", self.option, "the MLflow client (mlflow-skinny or mlflow)")
        from mlflow import MlflowClient

        try:
            self.client = MlflowClient(tracking_uri=uri or None)
            found = self.client.get_experiment_by_name(self.project)
            self.experiment_id = (found.experiment_id if found is not None
                                  else self.client.create_experiment(
                                      self.project, artifact_location=_artifacts_beside(uri)))
        except Exception as err:  # noqa: BLE001 - MlflowException, connection errors
            message = " ".join(str(err).split())[:400]
            raise BadInput(f"the MLflow store {uri or '(MLflow default)'} cannot be used: "
                           f"{type(err).__name__}: {message}", field=self.option,
                           hint="Give a tracking URI MLflow accepts (sqlite:///mlflow.db, "
                                "http://HOST:5000, ...).") from None
        self.uri = self.client.tracking_uri if hasattr(self.client, "tracking_uri") else uri
        self.session = uuid.uuid4().hex[:12]
        self.logged: dict[tuple, str] = {}  # candidate identity -> run id
        self._errors: dict[tuple[str, str], str] = {}
        self._reused: dict[tuple[str, str], int] = {}
        self._jobs: dict[tuple[str, str], set[str]] = {}  # the store keys of each one's fits
        self._grid = None
        self._build = None

    # -- callbacks
    def on_run_begin(self, run) -> None:
        self._grid = run

    def on_job_end(self, job, result, reused) -> None:
        key = (job.candidate.name, job.candidate.view)
        self._jobs.setdefault(key, set()).add(str(getattr(job, "key", "")))
        if "error" in result:
            self._errors.setdefault(key, str(result["error"]))
        elif reused:
            self._reused[key] = self._reused.get(key, 0) + 1

    def on_candidate_end(self, candidate, results) -> None:
        self._guard(self._log_candidate, candidate, results)

    # -- logging
    def _params(self, candidate) -> dict[str, Any]:
        if self._build is None:
            from dlrun.evaluation.runner import build_context

            spec = self.run.spec
            self._build = build_context(self.run.dataset, spec.metric, spec.evaluation.seed)
        return dict(candidate.identity(self._build)["params"])

    def _log_candidate(self, candidate, results: dict[str, dict]) -> None:
        from dlrun.catalogue import role_of

        params = self._params(candidate)
        identity = (candidate.name, candidate.view, json.dumps(params, sort_keys=True, default=str))
        if identity in self.logged:  # a later pass over the same fits (dlrun run, learning curves)
            return
        key = (candidate.name, candidate.view)
        # the exact fits (each job's store key: candidate, parameters, fold and data)
        digest = hashlib.sha256("|".join([identity[2], *sorted(self._jobs.get(key, ()))])
                                .encode()).hexdigest()[:16]
        if results and self._reused.get(key, 0) >= len(results) and key not in self._errors:
            # every fold came from the project's store: already logged by the evaluation that
            # computed it (a second `evaluate`, the board `tune` rebuilds)? then not again
            earlier = self._earlier_run(candidate, digest)
            if earlier is not None:
                self.logged[identity] = earlier
                return
        stopped = (getattr(self._grid, "stopped", None) or {}).get(key)
        error = self._errors.get(key)
        status = "FAILED" if error and not results else "KILLED" if stopped else "FINISHED"
        spec = self.run.spec
        tags = {"dlrun.project": self.project, "dlrun.algorithm": candidate.algorithm,
                "dlrun.label": candidate.name, "dlrun.view": candidate.view,
                "dlrun.role": role_of(candidate.algorithm), "dlrun.metric": spec.metric,
                "dlrun.session": self.session, "dlrun.folds": str(len(results)),
                "dlrun.fits": digest,
                "dlrun.reused_folds": str(self._reused.get(key, 0)),
                "dlrun.status": ("failed: " + error if status == "FAILED" else
                                 "stopped: " + stopped if stopped else "complete")[:5000]}
        if candidate.also:
            tags["dlrun.views"] = ",".join([candidate.view, *candidate.also])
        if error and results:
            tags["dlrun.error"] = error[:5000]
        run = self.client.create_run(self.experiment_id, run_name=f"{candidate.name}/{candidate.view}",
                                     tags=tags)
        run_id = run.info.run_id
        from mlflow.entities import Metric, Param

        now = int(time.time() * 1000)
        metrics: list = []
        per_metric: dict[str, list[float]] = {}
        for step, (_fold, result) in enumerate(results.items(), start=1):
            for name, value in (result.get("metrics") or {}).items():
                if _finite(value):
                    per_metric.setdefault(name, []).append(float(value))
                    metrics.append(Metric(f"fold_{name}", float(value), now, step))
        for name, values in per_metric.items():
            mean = sum(values) / len(values)
            metrics.append(Metric(name, mean, now, 0))
            metrics.append(Metric(f"{name}_std", math.sqrt(sum((v - mean) ** 2 for v in values)
                                                           / len(values)), now, 0))
        fits = [float(r["fit_seconds"]) for r in results.values() if _finite(r.get("fit_seconds"))]
        if fits:
            metrics.append(Metric("fit_seconds", sum(fits) / len(fits), now, 0))
        values = {"algorithm": candidate.algorithm, "view": candidate.view,
                  **{f"param.{k}" if k in ("algorithm", "view") else k: v for k, v in params.items()}}
        self._batch(run_id, metrics, [Param(k, _plain(v)) for k, v in values.items()])
        self.client.set_terminated(run_id, status=status)
        self.logged[identity] = run_id

    def _earlier_run(self, candidate, digest: str) -> str | None:
        """The id of a run of this experiment for the same fits (``digest``: the same folds of
        the same candidate, stopped by racing or not), if there is one."""
        def quoted(value: str) -> str:
            return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

        query = (f"tags.`dlrun.label` = {quoted(candidate.name)} AND tags.`dlrun.view` = "
                 f"{quoted(candidate.view)} AND tags.`dlrun.fits` = {quoted(digest)}")
        found = self.client.search_runs([self.experiment_id], query, max_results=1)
        return found[0].info.run_id if found else None

    def _batch(self, run_id: str, metrics: list, params: list) -> None:
        for i in range(0, max(len(params), 1), BATCH_PARAMS):
            self.client.log_batch(run_id, params=params[i : i + BATCH_PARAMS])
        for i in range(0, len(metrics), BATCH_METRICS):
            self.client.log_batch(run_id, metrics=metrics[i : i + BATCH_METRICS])

    def log_board(self, board: dict) -> None:
        """One run per ensemble row of the leaderboard (the other rows are the candidates,
        logged as their folds came in), unless the experiment has it already (its identity)."""
        self._guard(self._log_ensembles, board)

    def _log_ensembles(self, board: dict) -> None:
        from mlflow.entities import Metric, Param

        metric = str(board.get("metric") or self.run.spec.metric)
        for row in board.get("rows") or []:
            if row.get("role") != "ensemble" or not row.get("scores"):
                continue
            name, view = str(row.get("algorithm")), str(row.get("view"))
            digest = str(row.get("identity") or "")
            if digest and (name, view, digest) in self.logged:
                continue
            candidate = SimpleNamespace(name=name, view=view)
            if digest and self._earlier_run(candidate, digest) is not None:
                continue
            tags = {"dlrun.project": self.project, "dlrun.algorithm": name, "dlrun.label": name,
                    "dlrun.view": view, "dlrun.role": "ensemble", "dlrun.metric": metric,
                    "dlrun.session": self.session, "dlrun.folds": str(len(row["scores"])),
                    "dlrun.fits": digest, "dlrun.status": "complete"}
            run = self.client.create_run(self.experiment_id, run_name=f"{name}/{view}", tags=tags)
            now = int(time.time() * 1000)
            metrics = [Metric(f"fold_{metric}", float(v), now, step)
                       for step, v in enumerate(row["scores"], start=1) if _finite(v)]
            metrics += [Metric(k, float(v), now, 0) for k, v in (row.get("metrics") or {}).items()
                        if _finite(v)]
            if _finite(row.get("std")):
                metrics.append(Metric(f"{metric}_std", float(row["std"]), now, 0))
            members = [f"{m.get('algorithm')}/{m.get('view')}: {m.get('weight')}"
                       for m in row.get("members") or []]
            params = {"algorithm": name, "view": view, "method": row.get("method") or "",
                      "members": ", ".join(members)}
            self._batch(run.info.run_id, metrics, [Param(k, _plain(v)) for k, v in params.items()])
            self.client.set_terminated(run.info.run_id)
            self.logged[(name, view, digest)] = run.info.run_id

    def log_final(self, entry_dir: Path) -> str | None:
        """One run for the final model of a portfolio entry: its parameters, the cross-validated
        score it was chosen on, its fit time, and the entry's files as artifacts (``model/``,
        README.md, report.html, results.json). Returns the run id (None when logging failed)."""
        return self._guard(self._log_final, Path(entry_dir))

    def _log_final(self, entry: Path) -> str:
        from mlflow.entities import Metric, Param

        document = json.loads((entry / "results.json").read_text(encoding="utf-8"))
        final = document.get("final_model") or {}
        best = (document.get("summary") or {}).get("best") or {}
        metric = (document.get("project") or {}).get("metric") or self.run.spec.metric
        tags = {"dlrun.project": self.project, "dlrun.role": "final_model",
                "dlrun.algorithm": str(final.get("algorithm")), "dlrun.view": str(final.get("view")),
                "dlrun.session": self.session, "dlrun.metric": str(metric),
                "dlrun.entry": str(entry.resolve())}
        if document.get("run"):
            tags["dlrun.run"] = str(document["run"])
        run = self.client.create_run(self.experiment_id,
                                     run_name=f"final: {final.get('algorithm')}/{final.get('view')}",
                                     tags=tags)
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        metrics = [Metric(name, float(best[key]), now, 0)
                   for name, key in ((str(metric), "mean"), (f"{metric}_std", "std"))
                   if _finite(best.get(key))]
        if _finite(final.get("fit_seconds")):
            metrics.append(Metric("fit_seconds", float(final["fit_seconds"]), now, 0))
        params = {"algorithm": final.get("algorithm"), "view": final.get("view"),
                  **{k: v for k, v in (final.get("params") or {}).items()
                     if k not in ("algorithm", "view")}}
        self._batch(run_id, metrics, [Param(k, _plain(v)) for k, v in params.items()])
        if (entry / "model").is_dir():
            self.client.log_artifacts(run_id, str(entry / "model"), "model")
        for name in ("README.md", "report.html", "results.json"):
            if (entry / name).is_file():
                self.client.log_artifact(run_id, str(entry / name))
        self.client.set_terminated(run_id)
        return run_id


# --------------------------------------------------------------------------- TensorBoard


class TensorBoardTracker(_Tracker):
    """Each net's per-epoch curves as TensorBoard event files, one folder per fold."""

    option = "--tensorboard"

    def __init__(self, run_context, logdir: str | Path, reporter=None):
        super().__init__(run_context, reporter)
        require("tensorboard.summary.writer.event_file_writer", self.option,
                "TensorBoard (its event-file writer)")
        from dlrun.io import check_output_dir

        self.logdir = check_output_dir(logdir, self.option)
        self.written: list[Path] = []

    def on_job_end(self, job, result, reused) -> None:
        curves = (result.get("extra") or {}).get("curves") if "error" not in result else None
        if isinstance(curves, dict) and curves.get("epoch"):
            self._guard(self._write, job, curves)

    def folder(self, candidate, fold_id: str) -> Path:
        """``DIR/PROJECT/ALGORITHM/VIEW/FOLD``; a tuning trial's algorithm folder carries a
        digest of its parameters (trials share a name)."""
        name = candidate.name
        if name.endswith("+trial"):
            blob = json.dumps(candidate.params, sort_keys=True, default=str).encode()
            name += "-" + hashlib.sha256(blob).hexdigest()[:8]
        parts = [self.project, name, candidate.view, str(fold_id)]
        return Path(self.logdir, *(_safe(p) for p in parts))

    def _write(self, job, curves: dict) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        folder = self.folder(job.candidate, job.fold_id)
        if folder in self.written:
            return  # a later pass over the same fit (dlrun run)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("events.out.tfevents.*"):  # an earlier evaluation of this fold
            old.unlink()
        metric = str(curves.get("metric") or "metric")
        series = {"loss": curves.get("loss") or [], "val_loss": curves.get("val_loss") or [],
                  f"val_{metric}": curves.get("val_metric") or []}
        writer = EventFileWriter(str(folder))
        wall = time.time()
        try:
            for i, epoch in enumerate(curves["epoch"]):
                values = [Summary.Value(tag=tag, simple_value=float(points[i]))
                          for tag, points in series.items() if i < len(points) and _finite(points[i])]
                if values:
                    writer.add_event(Event(wall_time=wall, step=int(epoch),
                                           summary=Summary(value=values)))
        finally:
            writer.close()
        self.written.append(folder)


def _safe(part: str) -> str:
    """One path component: no separators, nothing hidden."""
    text = "".join(c if c.isalnum() or c in "+-_.=@" else "_" for c in str(part)).strip(".")
    return text or "_"
