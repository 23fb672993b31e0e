"""The library functions behind each command. The CLI only parses options and
calls these; nothing here knows about click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlrun.progress import Reporter
from dlrun.spec import load_spec
from dlrun.stages.base import RunContext, run_stages


def _context(project, options: dict[str, Any], reporter: Reporter | None) -> RunContext:
    spec, project_dir = load_spec(project)
    return RunContext(project_dir, spec, options, reporter or Reporter())


def validate(project, reporter: Reporter | None = None) -> dict[str, Any]:
    """Check the spec and the data without training; returns a data summary."""
    from dlrun.stages.prepare import data_summary

    ctx = _context(project, {}, reporter)
    summary = data_summary(ctx.dataset)
    summary["project"] = ctx.spec.name
    summary["task"] = ctx.spec.task
    summary["metric"] = ctx.spec.metric
    return summary


def evaluate(project, *, quick: bool = False, only: list[str] | None = None, jobs: int = 1,
             backend: str = "local", scheduler: str | None = None,
             reporter: Reporter | None = None) -> dict[str, Any]:
    options = {"quick": quick, "only": only, "jobs": jobs, "backend": backend, "scheduler": scheduler}
    ctx = _context(project, options, reporter)
    run_stages(["prepare", "evaluate"], ctx)
    return ctx.artifacts["evaluate"]


def report(project, *, portfolio: str | Path | None = None,
           reporter: Reporter | None = None) -> Path:
    ctx = _context(project, {"portfolio": portfolio}, reporter)
    run_stages(["report"], ctx)
    return ctx.artifacts["report"]


def run(project, *, portfolio=None, jobs: int = 1, backend: str = "local", scheduler=None,
        reporter: Reporter | None = None) -> Path:
    options = {"portfolio": portfolio, "jobs": jobs, "backend": backend, "scheduler": scheduler}
    ctx = _context(project, options, reporter)
    from dlrun.catalogue import STAGES
    from dlrun.stages.base import _register_builtin

    _register_builtin()
    names = ["prepare", "evaluate"] + (["tune"] if "tune" in STAGES else []) + ["report"]
    run_stages(names, ctx)
    return ctx.artifacts["report"]


def predict(entry, data, out=None):
    from dlrun.predict import predict_file

    return predict_file(entry, data, out)
