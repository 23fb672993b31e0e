"""Report: refit the winner on all the data, save it, write the portfolio entry."""

from __future__ import annotations

import time
from pathlib import Path

from dlrun.errors import BadInput
from dlrun.evaluation.candidates import Candidate, build_estimator
from dlrun.interrupts import hold_point
from dlrun.io import atomic_write_bytes
from dlrun.stages.base import RunContext, Stage
from dlrun.stages.results import candidate_for, load_leaderboard  # noqa: F401 (re-exported)

MODEL_FILE = "model/model.joblib"


def fit_final(candidate: Candidate, context: RunContext):
    from dlrun.evaluation.runner import build_context

    dataset = context.dataset
    build_ctx = build_context(dataset, context.spec.metric, context.spec.evaluation.seed)
    pipeline = build_estimator(candidate, build_ctx, dataset.roles, dataset.kind)
    start = time.perf_counter()
    pipeline.fit(dataset.X, dataset.encoded_target())
    return pipeline, time.perf_counter() - start, candidate.identity(build_ctx)["params"]


def save_model(entry_dir: Path, pipeline, candidate: Candidate, context: RunContext) -> list[str]:
    import io

    import joblib

    dataset = context.dataset
    bundle = {
        "format": 1,
        "pipeline": pipeline,
        "task": dataset.task,
        "kind": dataset.kind,
        "classes": list(dataset.classes),
        "columns": list(getattr(dataset.X, "columns", [])),  # none for arrays (pictures)
        "numeric": list(dataset.numeric),
        "categorical": list(dataset.categorical),
        "target": str(dataset.y.name),
        "data": context.spec.data.model_dump(),
        "algorithm": candidate.name,
        "view": candidate.view,
        "project": context.spec.name,
    }
    buffer = io.BytesIO()
    joblib.dump(bundle, buffer, compress=3)
    atomic_write_bytes(entry_dir / MODEL_FILE, buffer.getvalue())
    files = [MODEL_FILE]
    model = pipeline.named_steps["model"]
    if hasattr(model, "save_native"):  # Keras nets: also the net alone, natively
        native = entry_dir / "model" / "net.keras"
        model.save_native(native)
        files.append("model/net.keras")
    return files


class ReportStage(Stage):
    name = "report"

    def run(self, context: RunContext) -> Path:
        from dlrun.catalogue import KINDS
        from dlrun.report.entry import write_entry
        from dlrun.report.portfolio import refresh_index

        board = context.artifacts.get("evaluate") or load_leaderboard(context)
        if board is None:
            context.reporter.message("no leaderboard yet: evaluating first")
            from dlrun.stages.base import get_stage

            board = context.artifacts["evaluate"] = get_stage("evaluate").run(context)
        if not board.get("rows"):
            raise BadInput("the leaderboard has no complete row to report; run `dlrun evaluate` first",
                           field="PROJECT")
        best = board["rows"][0]
        candidate = candidate_for(best, context)
        hold_point("report")
        context.reporter.message(f"fitting the final model: {candidate.name} on the {candidate.view} view")
        pipeline, fit_seconds, params = fit_final(candidate, context)
        portfolio = Path(context.options.get("portfolio") or "portfolio")
        entry_dir = portfolio / context.spec.name
        files = save_model(entry_dir, pipeline, candidate, context)
        final_model = {
            "algorithm": candidate.name,
            "view": candidate.view,
            "path": MODEL_FILE,
            "files": files,
            "fit_seconds": round(fit_seconds, 3),
            "params": params,
        }
        from types import SimpleNamespace

        kind = KINDS.get(context.dataset.kind)
        extra_figures, extra_sections = [], []
        for figs_secs in [kind.report_sections(SimpleNamespace(run=context, pipeline=pipeline,
                                                                board=board))]:
            if figs_secs:
                figs, secs = figs_secs
                extra_figures += figs
                extra_sections += secs
        write_entry(
            entry_dir,
            spec=context.spec,
            leaderboard=board,
            final_model=final_model,
            data_summary=board.get("data") or kind.summary(context.dataset),
            predict_hint=kind.predict_hint(),
            extra_figures=extra_figures or None,
            extra_sections=extra_sections or None,
        )
        refresh_index(portfolio)
        return entry_dir
