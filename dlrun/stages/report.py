"""Report: refit the winner on all the data, save it, write the portfolio entry."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dlrun.errors import BadInput
from dlrun.evaluation.candidates import Candidate, build_pipeline
from dlrun.evaluation.runner import build_context
from dlrun.interrupts import hold_point
from dlrun.io import atomic_write_bytes, read_json
from dlrun.stages.base import RunContext, Stage
from dlrun.stages.evaluate import LEADERBOARD_FILE

MODEL_FILE = "model/model.joblib"


def load_leaderboard(context: RunContext) -> dict[str, Any] | None:
    for name in (LEADERBOARD_FILE, "leaderboard-last.json"):
        path = context.project_dir / ".dlrun" / name
        if path.is_file():
            return read_json(path)
    return None


def candidate_for(row: dict[str, Any], context: RunContext) -> Candidate:
    """The candidate behind a leaderboard row (tuned rows carry their parameters)."""
    for cand in context.artifacts.get("extra_candidates", []):
        if cand.name == row["algorithm"] and cand.view == row["view"]:
            return cand
    algorithm = row["algorithm"].split("+", 1)[0]
    params = dict(context.spec.params.get(algorithm, {}))
    params.update(row.get("params") or {})
    return Candidate(algorithm, row["view"], params, label=row["algorithm"])


def fit_final(candidate: Candidate, context: RunContext):
    dataset = context.dataset
    build_ctx = build_context(dataset, context.spec.metric, context.spec.evaluation.seed)
    pipeline = build_pipeline(candidate, build_ctx, dataset.numeric, dataset.categorical)
    start = time.perf_counter()
    pipeline.fit(dataset.X, dataset.encoded_target())
    return pipeline, time.perf_counter() - start


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
        "columns": list(getattr(dataset.X, "columns", [])),  # none for image arrays
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
        from dlrun.report.entry import write_entry
        from dlrun.report.portfolio import refresh_index
        from dlrun.stages.prepare import data_summary

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
        pipeline, fit_seconds = fit_final(candidate, context)
        portfolio = Path(context.options.get("portfolio") or "portfolio")
        entry_dir = portfolio / context.spec.name
        files = save_model(entry_dir, pipeline, candidate, context)
        final_model = {
            "algorithm": candidate.name,
            "view": candidate.view,
            "path": MODEL_FILE,
            "files": files,
            "fit_seconds": round(fit_seconds, 3),
            "params": {**candidate.identity()["params"]},
        }
        from dlrun.catalogue import REPORT_SECTIONS

        extra_figures, extra_sections = [], []
        for _name, section in REPORT_SECTIONS.items():
            figs, secs = section(context, pipeline, board)
            extra_figures += figs
            extra_sections += secs
        write_entry(
            entry_dir,
            spec=context.spec,
            leaderboard=board,
            final_model=final_model,
            data_summary=board.get("data") or data_summary(context.dataset),
            extra_figures=extra_figures or None,
            extra_sections=extra_sections or None,
        )
        refresh_index(portfolio)
        return entry_dir
