"""The library functions behind each command. The CLI only parses options and
calls these; nothing here knows about click. Each call loads the plugins (the
kinds of data, algorithms, views, metrics and stages) once per process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlrun.plugins import load_plugins
from dlrun.progress import Reporter


def _context(project, options: dict[str, Any], reporter: Reporter | None):
    from dlrun.spec import load_spec
    from dlrun.stages.base import RunContext

    load_plugins()
    spec, project_dir = load_spec(project)
    return RunContext(project_dir, spec, options, reporter or Reporter())


def validate(project, reporter: Reporter | None = None) -> dict[str, Any]:
    """Check the spec and the data without training; returns a data summary (with
    ``description``: the kind's one-line account of the data)."""
    from dlrun.catalogue import KINDS

    ctx = _context(project, {}, reporter)
    kind = KINDS.get(ctx.spec.kind)
    summary = kind.summary(ctx.dataset)
    warnings = list(ctx.dataset.meta.get("warnings") or [])
    outside = _outside(ctx.spec.data.source, ctx.project_dir)
    if outside is not None:
        warnings.append(f"data.source reads {outside}, outside the project folder: the project "
                        "is not self-contained, and whatever is at that path becomes its data")
    summary.update(project=ctx.spec.name, kind=ctx.spec.kind, task=ctx.spec.task,
                   metric=ctx.spec.metric, description=kind.describe(summary), warnings=warnings)
    return summary


def _outside(source: str, project_dir: Path) -> Path | None:
    """The data's path when it lies outside the project folder (None inside, or not a file)."""
    if ":" in source and not Path(source).exists() and source.split(":", 1)[0].isalpha():
        return None  # sklearn:NAME and the like
    path = Path(source).expanduser()
    path = (path if path.is_absolute() else project_dir / path).resolve()
    try:
        path.relative_to(Path(project_dir).resolve())
        return None
    except ValueError:
        return path


def evaluate(project, *, quick: bool = False, only: list[str] | None = None, jobs: int = 1,
             backend: str = "local", scheduler: str | None = None, time_limit: float | None = None,
             race: bool | None = None, learning_curve: bool = False,
             reporter: Reporter | None = None, callbacks=()) -> dict[str, Any]:
    """Spot-check the candidates; returns the leaderboard (``learning_curve``: with the
    learning curves of the best candidates, as the spec's ``learning_curve`` block asks
    too). ``callbacks`` follow the run
    (:mod:`dlrun.evaluation.callbacks`); ``time_limit``: seconds from the process's start;
    ``race``: racing on or off (``None``: on with ``quick`` or a time limit)."""
    from dlrun.budget import deadline_for
    from dlrun.stages.base import run_stages

    options = {"quick": quick, "only": only, "jobs": jobs, "backend": backend, "scheduler": scheduler,
               "callbacks": list(callbacks), "time_limit": time_limit,
               "deadline": deadline_for(time_limit), "learning_curve": learning_curve, "race": race}
    ctx = _context(project, options, reporter)
    run_stages(["prepare", "evaluate"], ctx)
    return ctx.artifacts["evaluate"]


def tune(project, *, top: int | None = None, trials: int | None = None,
         timeout: float | None = None, storage: str | None = None, jobs: int = 1,
         backend: str = "local", scheduler: str | None = None, time_limit: float | None = None,
         reporter: Reporter | None = None, callbacks=()) -> dict[str, Any]:
    """Tune the best ``top`` algorithms of the leaderboard (``trials`` more per study);
    returns ``{"studies": [...], "leaderboard": ...}`` with the tuned rows merged in."""
    from dlrun.budget import deadline_for
    from dlrun.stages.base import run_stages

    options = {"top": top, "trials": trials, "timeout": timeout, "storage": storage, "jobs": jobs,
               "backend": backend, "scheduler": scheduler, "callbacks": list(callbacks),
               "time_limit": time_limit, "deadline": deadline_for(time_limit)}
    ctx = _context(project, options, reporter)
    run_stages(["tune", "evaluate"], ctx)
    return {"studies": ctx.artifacts["tune"]["studies"], "leaderboard": ctx.artifacts["evaluate"]}


def report(project, *, portfolio: str | Path | None = None, force: bool = False,
           reporter: Reporter | None = None) -> Path:
    from dlrun.io import check_output_dir
    from dlrun.stages.base import run_stages

    check_output_dir(portfolio or "portfolio", "--portfolio")  # before anything is fitted
    ctx = _context(project, {"portfolio": portfolio, "force": force}, reporter)
    run_stages(["report"], ctx)
    return ctx.artifacts["report"]


#: Seconds of a ``dlrun run`` budget kept for the report (its final fit comes on top).
REPORT_RESERVE = 0.15


def run(project, *, portfolio=None, jobs: int = 1, backend: str = "local", scheduler=None,
        force: bool = False, time_limit: float | None = None, race: bool | None = None,
        reporter: Reporter | None = None) -> Path:
    from dlrun.catalogue import STAGES
    from dlrun.io import check_output_dir
    from dlrun.stages.base import run_stages

    check_output_dir(portfolio or "portfolio", "--portfolio")
    from dlrun.budget import deadline_for

    # the report's final fit and files come after evaluate and tune: keep a share for them
    work = None if time_limit is None else time_limit * (1 - REPORT_RESERVE)
    options = {"portfolio": portfolio, "jobs": jobs, "backend": backend, "scheduler": scheduler,
               "force": force, "time_limit": work, "deadline": deadline_for(work), "race": race}
    ctx = _context(project, options, reporter)
    names = ["prepare", "evaluate", "tune", "evaluate", "report"]  # the second board has +tuned rows
    assert all(name in STAGES for name in names)
    run_stages(names, ctx)
    return ctx.artifacts["report"]


def predictions(project, *, candidate: str | None = None, reporter: Reporter | None = None):
    """The stored out-of-fold predictions of a leaderboard row (``ALGO/VIEW``; default the
    best) as a frame: ``row, repeat, fold, y_true, y_pred`` and one ``p_<class>`` per class."""
    from dlrun.errors import BadInput
    from dlrun.stages.results import find_row, load_leaderboard, predictions_frame

    ctx = _context(project, {}, reporter)
    board = load_leaderboard(ctx)
    if board is None:
        raise BadInput("this project has not been evaluated yet", field="PROJECT",
                       hint=f"Run `dlrun evaluate {ctx.project_dir}` first.")
    return predictions_frame(ctx, find_row(board, candidate), board)


def predict(entry, data, out=None):
    from dlrun.io import check_output_file
    from dlrun.predict import predict_file

    if out:
        check_output_file(out, "--out")
    load_plugins()
    return predict_file(entry, data, out)
