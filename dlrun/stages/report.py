"""Report: refit the winner on all the data, save it, write the portfolio entry.

The final fit is the report's only fit: every other figure (a confusion
matrix, forecasts, training curves) reads what the evaluation stored of each
fold (:func:`dlrun.stages.results.out_of_fold`, :func:`stored_extras`)."""

from __future__ import annotations

import time
from pathlib import Path

from dlrun.errors import BadInput
from dlrun.evaluation.candidates import Candidate, build_estimator
from dlrun.interrupts import hold_point
from dlrun.stages.base import RunContext, Stage
from dlrun.stages.results import candidate_for, load_leaderboard, out_of_fold  # noqa: F401 (re-exported)

MODEL_FILE = "model/pipeline.skops"


def fit_final(candidate: Candidate, context: RunContext):
    from dlrun.evaluation.runner import build_context

    dataset = context.dataset
    build_ctx = build_context(dataset, context.spec.metric, context.spec.evaluation.seed)
    pipeline = build_estimator(candidate, build_ctx, dataset.roles, dataset.kind)
    start = time.perf_counter()
    pipeline.fit(dataset.X, dataset.encoded_target())
    return pipeline, time.perf_counter() - start, candidate.identity(build_ctx)["params"]


def fit_final_ensemble(row: dict, context: RunContext):
    """An ensemble row's final model: each member refitted on all the data, combined with the
    weights (or the stacker) chosen on every out-of-fold row (:mod:`dlrun.evaluation.ensembles`)."""
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
    start = time.perf_counter()
    model.fit(dataset.X, dataset.encoded_target())
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
    if hasattr(model, "save_native") and not any(f.endswith(".keras") for f in files):
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


class ReportStage(Stage):
    name = "report"

    def run(self, context: RunContext) -> Path:
        from dlrun.catalogue import KINDS
        from dlrun.evaluation.ensembles import is_ensemble_row
        from dlrun.report.context import ReportContext
        from dlrun.report.entry import write_report
        from dlrun.report.portfolio import refresh_index

        board = context.artifacts.get("evaluate") or load_leaderboard(context)
        if board is None or not board.get("rows"):
            # never a silent evaluation: that can be hours of fitting the user did not ask for
            raise BadInput("this project has no leaderboard to report: it has not been evaluated"
                           + ("" if board is None else " to a complete row"), field="PROJECT",
                           hint=f"Run `dlrun evaluate {context.project_dir}` first (or `dlrun run`).")
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
        )
        write_report(report, kind.report_sections)  # called (and guarded) with the others
        refresh_index(portfolio)
        return entry_dir
