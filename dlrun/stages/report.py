"""Report: refit the winner on all the data, save it, write the portfolio entry.

The report stands on a stored evaluation that matches project.yaml
(:func:`dlrun.stages.results.stored_evaluation`: it refuses otherwise, naming the
command to run) and never evaluates anything itself. Besides the final fit, the only
fits are the explanations' (the final recipe on a few training folds, to measure
permutation importance on the rows it did not see: :mod:`dlrun.report.explain`);
every other figure (the diagnostics, forecasts, training curves) reads what the
evaluation stored of each fold (:func:`dlrun.stages.results.out_of_fold`,
:func:`stored_extras`)."""

from __future__ import annotations

import time
from pathlib import Path

from dlrun.errors import BadInput
from dlrun.evaluation.candidates import Candidate, build_estimator
from dlrun.interrupts import hold_point
from dlrun.stages.base import RunContext, Stage
from dlrun.stages.results import (  # noqa: F401 (re-exported)
    candidate_for,
    load_leaderboard,
    out_of_fold,
    stored_evaluation,
)

MODEL_FILE = "model/pipeline.skops"


def _rows(X, rows):
    """All of ``X`` (``rows`` None) or those rows of it."""
    if rows is None:
        return X
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def fit_final(candidate: Candidate, context: RunContext, rows=None):
    """The candidate fitted on all the data (or on ``rows`` of it)."""
    from dlrun.evaluation.runner import build_context

    dataset = context.dataset
    build_ctx = build_context(dataset, context.spec.metric, context.spec.evaluation.seed)
    pipeline = build_estimator(candidate, build_ctx, dataset.roles, dataset.kind)
    y = dataset.encoded_target()
    start = time.perf_counter()
    pipeline.fit(_rows(dataset.X, rows), y if rows is None else y[rows])
    return pipeline, time.perf_counter() - start, candidate.identity(build_ctx)["params"]


def fit_final_ensemble(row: dict, context: RunContext, rows=None):
    """An ensemble row's final model: each member refitted on all the data (or on ``rows`` of
    it), combined with the weights (or the stacker) chosen on every out-of-fold row
    (:mod:`dlrun.evaluation.ensembles`)."""
    import numpy as np

    from dlrun.algorithms.ensemble import STACK, EnsembleModel
    from dlrun.evaluation.ensembles import METHODS
    from dlrun.evaluation.runner import build_context

    dataset = context.dataset
    build_ctx = build_context(dataset, context.spec.metric, context.spec.evaluation.seed)
    method = METHODS[row["algorithm"]]
    members, names = [], []
    for member in row["members"]:
        cand = candidate_for({"algorithm": member["algorithm"], "view": member["view"]}, context)
        members.append(build_estimator(cand, build_ctx, dataset.roles, dataset.kind))
        names.append(f"{member['algorithm']}/{member['view']}")
    weights = [float(m.get("count", m["weight"])) for m in row["members"]]
    stacker = row.get("stacker") or {}
    model = EnsembleModel(members, weights, method, build_ctx.n_classes if build_ctx.classification else 0,
                          np.asarray(stacker["coef"]) if method == STACK else None,
                          np.asarray(stacker["intercept"]) if method == STACK else None, names)
    y = dataset.encoded_target()
    start = time.perf_counter()
    model.fit(_rows(dataset.X, rows), y if rows is None else y[rows])
    params = {"method": row.get("method") or method,
              "members": {name: m["weight"] for name, m in zip(names, row["members"], strict=True)}}
    return model, time.perf_counter() - start, params


def save_model(entry_dir: Path, pipeline, candidate: Candidate, context: RunContext) -> list[str]:
    """The fitted pipeline in files that cannot run code when loaded (:mod:`dlrun.modelfile`);
    a Keras net is also written alone, natively, for use outside dlrun."""
    from dlrun.modelfile import entry_metadata
    from dlrun.modelfile import save_model as save

    metadata = entry_metadata(context.dataset, context.spec, candidate.name, candidate.view)
    metadata["project_dir"] = str(context.project_dir)
    files = save(entry_dir, pipeline, metadata)
    model = pipeline.named_steps["model"]
    if callable(getattr(model, "save_native", None)) and not any(f.endswith(".keras") for f in files):
        model.save_native(entry_dir / "model" / "net.keras")  # the MLP's NumPy weights as Keras
        files.append("model/net.keras")
    return files


def check_entry(entry_dir: Path, context: RunContext) -> None:
    """Refuse to overwrite an entry of another project of the same name (unless --force)."""
    import json

    from dlrun.modelfile import MANIFEST, MODEL_DIR

    path = entry_dir / MODEL_DIR / MANIFEST
    if context.options.get("force") or not path.is_file():
        return
    try:
        owner = json.loads(path.read_text(encoding="utf-8")).get("project_dir")
    except (OSError, ValueError):
        return
    if owner and Path(owner) != Path(context.project_dir):
        raise BadInput(f"{entry_dir} holds the entry of another project named "
                       f"'{context.spec.name}' ({owner}); it is not overwritten",
                       field="--portfolio",
                       hint="Rename this project, report into another --portfolio, or pass --force.")


def stored_extras(context: RunContext, row: dict, board: dict) -> list:
    """What the models of a row's folds recorded (a net's ``curves``), ``[(Fold, extra)]`` in
    plan order, read from the result store like :func:`out_of_fold` (folds not stored are
    left out; nothing is fitted)."""
    from dlrun.evaluation.store import ResultStore
    from dlrun.stages.base import STATE_DIR
    from dlrun.stages.evaluate import RESULTS_FILE
    from dlrun.stages.results import stored_folds

    path = context.project_dir / STATE_DIR / RESULTS_FILE
    if not path.is_file():
        return []
    folds = stored_folds(context, row, board)
    with ResultStore(path) as store:
        stored = store.get_many([key for _, key in folds])
    return [(fold, stored[key]["extra"]) for fold, key in folds if key in stored]


def fold_fitter(row: dict, candidate: Candidate, context: RunContext):
    """``rows -> model``: the final model's recipe fitted on those rows only (the
    explanations score it on the rows it did not see); None unless the kind fits a pipeline on
    rows of a table of named columns."""
    from dlrun.catalogue import KINDS
    from dlrun.evaluation.ensembles import is_ensemble_row
    from dlrun.evaluation.jobs import PipelineFolds

    dataset = context.dataset
    if not isinstance(KINDS.get(dataset.kind).folds(), PipelineFolds) or not hasattr(dataset.X, "columns") \
            or len(dataset.X.columns) == 0:
        return None
    if is_ensemble_row(row):
        return lambda rows: fit_final_ensemble(row, context, rows)[0]
    return lambda rows: fit_final(candidate, context, rows)[0]


def plan_folds(context: RunContext) -> list:
    """The folds of the evaluation's resampling (the plan the stored results were made on:
    the one `dlrun run` just prepared, else the spec's, quick as the stored evaluation was)."""
    from dlrun.catalogue import KINDS

    prepared = context.artifacts.get("prepare")
    if prepared:
        return list(prepared["plan"].folds)
    plan = KINDS.get(context.dataset.kind).plan(context.spec, context.dataset, bool(context.options.get("quick")))
    return list(plan.folds)


class ReportStage(Stage):
    name = "report"

    def run(self, context: RunContext) -> Path:
        from dlrun.catalogue import KINDS
        from dlrun.evaluation.ensembles import is_ensemble_row
        from dlrun.report.context import ReportContext
        from dlrun.report.entry import write_report
        from dlrun.report.portfolio import refresh_index

        board = context.artifacts.get("evaluate")
        if board is not None:  # `dlrun run`: the evaluation this process just made
            if not board.get("rows"):
                raise BadInput("the evaluation ranked no complete row: there is nothing to report",
                               field="PROJECT", hint="See the failures above.")
            used = {"file": "this run's evaluation", "created": board.get("created")}
        else:  # never a silent evaluation, never another spec's results: refused with the command
            board, used = stored_evaluation(context)
        context.options["quick"] = bool((board.get("options") or {}).get("quick"))
        context.reporter.message(f"reporting the evaluation in {used['file']}"
                                 + (f", made {used['created']}" if used.get("created") else ""), "info")
        best = board["rows"][0]
        candidate = candidate_for(best, context)
        portfolio = Path(context.options.get("portfolio") or "portfolio")
        entry_dir = portfolio / context.spec.name
        check_entry(entry_dir, context)  # before the fit: refusing after it would waste it
        hold_point("report")
        if is_ensemble_row(best):  # each member refitted on all the data
            members = ", ".join(f"{m['algorithm']}/{m['view']}" for m in best["members"])
            context.reporter.message(f"fitting the final model: {candidate.name} of {members}")
            pipeline, fit_seconds, params = fit_final_ensemble(best, context)
        else:
            context.reporter.message(f"fitting the final model: {candidate.name} on the {candidate.view} view")
            pipeline, fit_seconds, params = fit_final(candidate, context)  # the report's only fit
        files = save_model(entry_dir, pipeline, candidate, context)
        final_model = {
            "algorithm": candidate.name,
            "view": candidate.view,
            "path": MODEL_FILE,
            "files": files,
            "fit_seconds": round(fit_seconds, 3),
            "params": params,
        }
        if is_ensemble_row(best):
            final_model["role"] = best["role"]  # each member refitted, combined as chosen
        kind = KINDS.get(context.dataset.kind)
        report = ReportContext(
            spec=context.spec,
            leaderboard=board,
            final_model=final_model,
            data_summary=board.get("data") or kind.summary(context.dataset),
            entry_dir=entry_dir,
            predict_hint=kind.predict_hint(),
            dataset=context.dataset,
            pipeline=pipeline,
            run=context,
            reporter=context.reporter,
            predictions=lambda row: out_of_fold(context, row, board),
            extras=lambda row: stored_extras(context, row, board),
            fit_on=fold_fitter(best, candidate, context),
            folds=plan_folds(context),
            evaluation=used,
        )
        write_report(report, kind.report_sections)  # called (and guarded) with the others
        refresh_index(portfolio)
        return entry_dir
