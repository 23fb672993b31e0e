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
    ``description``: the kind's one-line account of the data, and ``profile``: the data
    profile of :mod:`dlrun.data.profile`, None when the inputs are not a table)."""
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
    # per-column facts and the warnings a practitioner wants (suspicious zeros, leaks...);
    # None when the inputs are not a table of named columns
    from dlrun.data.profile import profile_dataset

    summary["profile"] = profile_dataset(ctx.dataset, ctx.spec.metric, ctx.spec.evaluation.seed)
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
             reporter: Reporter | None = None, callbacks=(), mlflow: str | bool | None = None,
             tensorboard: str | Path | None = None) -> dict[str, Any]:
    """Spot-check the candidates; returns the leaderboard (``learning_curve``: with the
    learning curves of the best candidates, as the spec's ``learning_curve`` block asks
    too). ``callbacks`` follow the run
    (:mod:`dlrun.evaluation.callbacks`); ``time_limit``: seconds from the process's start;
    ``race``: racing on or off (``None``: on with ``quick`` or a time limit). ``mlflow``
    (a tracking URI, or True / '' for MLflow's default store) logs every candidate to MLflow;
    ``tensorboard`` (a folder) receives the nets' training curves
    (:mod:`dlrun.evaluation.trackers`)."""
    from dlrun.budget import deadline_for
    from dlrun.stages.base import run_stages

    options = {"quick": quick, "only": only, "jobs": jobs, "backend": backend, "scheduler": scheduler,
               "callbacks": list(callbacks), "time_limit": time_limit,
               "deadline": deadline_for(time_limit), "learning_curve": learning_curve, "race": race}
    ctx = _context(project, options, reporter)
    trackers = _trackers(ctx, mlflow, tensorboard)
    run_stages(["prepare", "evaluate"], ctx)
    _log_board(trackers, ctx.artifacts["evaluate"])
    return ctx.artifacts["evaluate"]


def _trackers(ctx, mlflow, tensorboard) -> list:
    """The trackers asked for, appended to the run's callbacks (made before any fit, so a
    missing library or a bad store stops the command at once)."""
    trackers = []
    if mlflow is not None and mlflow is not False:
        from dlrun.evaluation.trackers import MlflowTracker

        uri = None if mlflow is True or not str(mlflow).strip() else str(mlflow)
        trackers.append(MlflowTracker(ctx, uri, reporter=ctx.reporter))
    if tensorboard:
        from dlrun.evaluation.trackers import TensorBoardTracker

        trackers.append(TensorBoardTracker(ctx, tensorboard, reporter=ctx.reporter))
    ctx.options["callbacks"] = [*(ctx.options.get("callbacks") or []), *trackers]
    return trackers


def _log_board(trackers, board) -> None:
    """The leaderboard's rows that are no candidate of the fits (ensembles) to the trackers."""
    for tracker in trackers:
        if hasattr(tracker, "log_board"):
            tracker.log_board(board)


def _log_final(trackers, entry) -> None:
    for tracker in trackers:
        if hasattr(tracker, "log_final"):
            tracker.log_final(entry)


def tune(project, *, top: int | None = None, trials: int | None = None,
         timeout: float | None = None, storage: str | None = None, jobs: int = 1,
         backend: str = "local", scheduler: str | None = None, time_limit: float | None = None,
         reporter: Reporter | None = None, callbacks=(), mlflow: str | bool | None = None,
         tensorboard: str | Path | None = None) -> dict[str, Any]:
    """Tune the best ``top`` algorithms of the leaderboard (``trials`` more per study);
    returns ``{"studies": [...], "leaderboard": ...}`` with the tuned rows merged in. The
    trackers (see :func:`evaluate`) log every trial and every re-scored ``+tuned`` row."""
    from dlrun.budget import deadline_for
    from dlrun.stages.base import run_stages

    options = {"top": top, "trials": trials, "timeout": timeout, "storage": storage, "jobs": jobs,
               "backend": backend, "scheduler": scheduler, "callbacks": list(callbacks),
               "time_limit": time_limit, "deadline": deadline_for(time_limit)}
    ctx = _context(project, options, reporter)
    trackers = _trackers(ctx, mlflow, tensorboard)
    run_stages(["tune", "evaluate"], ctx)
    _log_board(trackers, ctx.artifacts["evaluate"])
    return {"studies": ctx.artifacts["tune"]["studies"], "leaderboard": ctx.artifacts["evaluate"]}


def report(project, *, portfolio: str | Path | None = None, force: bool = False,
           reporter: Reporter | None = None, mlflow: str | bool | None = None) -> Path:
    """Fit the final model and write the portfolio entry; ``mlflow`` (a tracking URI, or
    True / '' for the default store) also logs the final model with the entry's files."""
    from dlrun.io import check_output_dir
    from dlrun.stages.base import run_stages

    check_output_dir(portfolio or "portfolio", "--portfolio")  # before anything is fitted
    ctx = _context(project, {"portfolio": portfolio, "force": force}, reporter)
    trackers = _trackers(ctx, mlflow, None)
    run_stages(["report"], ctx)
    _log_final(trackers, ctx.artifacts["report"])
    return ctx.artifacts["report"]


#: Seconds of a ``dlrun run`` budget kept for the report (its final fit comes on top).
REPORT_RESERVE = 0.15


def run(project, *, portfolio=None, jobs: int = 1, backend: str = "local", scheduler=None,
        force: bool = False, time_limit: float | None = None, race: bool | None = None,
        reporter: Reporter | None = None, mlflow: str | bool | None = None,
        tensorboard: str | Path | None = None) -> Path:
    """Evaluate, tune and report; the trackers (see :func:`evaluate`) follow every fit, and
    MLflow also gets the final model."""
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
    trackers = _trackers(ctx, mlflow, tensorboard)
    names = ["prepare", "evaluate", "tune", "evaluate", "report"]  # the second board has +tuned rows
    assert all(name in STAGES for name in names)
    run_stages(names, ctx)
    _log_board(trackers, ctx.artifacts["evaluate"])
    _log_final(trackers, ctx.artifacts["report"])
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


def portfolio(directory: str | Path = "portfolio") -> dict[str, Any]:
    """Refresh the index of a portfolio folder (index.md, index.html); returns
    ``{"portfolio", "entries", "index"}``: the folder, one dict per entry (name, best model,
    score, protocol, lifts, runs kept, date...) and the index files written."""
    from dlrun.errors import BadInput
    from dlrun.report.portfolio import INDEX_HTML, INDEX_MD, refresh_index

    folder = Path(directory)
    if not folder.is_dir():
        raise BadInput(f"{folder} is {'a file, not a folder' if folder.exists() else 'not a folder'}",
                       field="DIR", hint="Give the folder `dlrun report PROJECT --portfolio DIR` "
                                         "writes entries into (default: portfolio).")
    entries = refresh_index(folder)
    return {"portfolio": str(folder), "entries": entries,
            "index": [str(folder / INDEX_MD), str(folder / INDEX_HTML)]}


def predict(entry, data, out=None, *, header: bool | None = None, keep=()):
    """Predictions of a portfolio entry's model for ``data`` (a path, or a stream such as
    standard input) as a frame: the ``keep`` input columns first, then ``prediction`` and
    one unrounded ``p_<class>`` per class. ``header``: whether the first row of a table
    names its columns (None: detected). Written to ``out`` as CSV when given; nothing is
    printed. ``frame.attrs["notes"]`` says what was ignored."""
    from dlrun.io import check_output_file
    from dlrun.predict import predict_file

    if out:
        check_output_file(out, "--out")
    load_plugins()
    frame = predict_file(entry, data, header=header, keep=keep)
    if out:
        from dlrun.io import atomic_write_text

        atomic_write_text(out, frame.to_csv(index=False))
    return frame
