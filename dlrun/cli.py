"""The command line. Thin: each command parses options and calls one function of
:mod:`dlrun.api`. This is the only module that knows about click, and the only
place that turns errors into exit codes (0 ok, 2 bad input, 1 anything else).

Start-up must stay light: nothing heavy is imported at module level, and the
commands import what they need when they run.
"""

from __future__ import annotations

import functools
import json
import os
import sys

import click

from dlrun import __version__


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn):
    """Map domain errors to exit codes and one-paragraph messages; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from dlrun.errors import BadInput, DlrunError
        from dlrun.interrupts import Terminated, hold_point, signals_honoured

        try:
            with signals_honoured():
                hold_point("start")
                return fn(*args, **kwargs)
        except BadInput as err:
            _fail(str(err), 2)
        except DlrunError as err:
            _fail(str(err), 1)
        except KeyboardInterrupt as err:
            what = "Terminated (SIGTERM)" if isinstance(err, Terminated) else "Interrupted"
            click.echo(f"{what}: every finished result is kept; run the command again to "
                       "compute only what is missing.", err=True)
            sys.exit(143 if isinstance(err, Terminated) else 130)
        except click.exceptions.Exit:
            raise
        except Exception as err:  # noqa: BLE001 - last line of defence
            if os.environ.get("DLRUN_DEBUG"):
                raise
            _fail(f"{type(err).__name__}: {err} (set DLRUN_DEBUG=1 to see the traceback)", 1)

    return wrapper


def _split_list(ctx, param, value):
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:  # '' or ',,': an empty selection never means "everything"
        raise click.BadParameter("names no algorithm; give ALGO,... or leave the option out "
                                 "to evaluate them all", param=param)
    return names


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dlrun")
def main():
    """dlrun: define, spot-check, tune and report predictive-modelling projects.

    \b
    A typical session:
      dlrun new pima --data pima-indians-diabetes.csv --no-header
      dlrun validate projects/pima
      dlrun evaluate projects/pima
      dlrun report projects/pima
      dlrun predict portfolio/pima --data new-rows.csv --out predictions.csv
    """


@main.command()
@click.argument("name")
@click.option("--template", metavar="KIND",
              help="Kind of data (`dlrun catalogue` lists the kinds; default: a table of examples).")
@click.option("--data", "data", metavar="PATH", help="Data file, folder, or sklearn:NAME.")
@click.option("--target", metavar="COL", help="Target column name or index (default: the last column).")
@click.option("--no-header", is_flag=True, help="The CSV has no header row.")
@click.option("--dir", "directory", default="projects", show_default=True, metavar="DIR",
              help="Folder the project is created in.")
@click.option("--test-size", "test_size", type=click.IntRange(min=1), metavar="N",
              help="Time series: walk-forward, one step ahead, over the last N observations.")
@click.option("--horizon", type=click.IntRange(min=1), metavar="H",
              help="Time series: forecast H steps ahead (default 1).")
@click.option("--text", "document_column", metavar="COL",
              help="Documents in a CSV/Parquet file: the column holding them (default: the "
                   "string column with the longest values; --target names the label).")
@handle_errors
def new(name, template, data, target, no_header, directory, test_size, horizon, document_column):
    """Scaffold a project DIR/NAME with a project.yaml inferred from the data."""
    from dlrun.scaffold import new_project

    path = new_project(name, template=template, data=data, target=target,
                       header=False if no_header else None, directory=directory,
                       test_size=test_size, horizon=horizon, text=document_column)
    click.echo(f"Created {path}")
    click.echo(f"Next: read {path}/README.md, then `dlrun validate {path}` and `dlrun evaluate {path}`.")


@main.command()
@click.argument("project")
@handle_errors
def validate(project):
    """Check the spec and the data without training."""
    from dlrun import api

    summary = api.validate(project)
    click.echo(f"{summary['project']}: OK — {summary['description']}; {summary['task']} of "
               f"'{summary['target']}' scored by {summary['metric']}.")
    if "classes" in summary:
        click.echo("classes: " + ", ".join(f"{k}: {v}" for k, v in summary["classes"].items()))
    for warning in summary.get("warnings") or []:
        click.echo(f"warning: {warning}", err=True)


@main.command()
@handle_errors
def schema():
    """Print the JSON Schema of project.yaml (for editor autocompletion)."""
    from dlrun.spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
@click.argument("project")
@click.option("--quick", is_flag=True, help="5 folds x 1 repeat: a fast first look.")
@click.option("--only", callback=_split_list, metavar="ALGO,...", help="Evaluate only these algorithms.")
@click.option("--jobs", "-j", type=int, default=1, show_default=True,
              help="Parallel processes for the fits (-1: all cores).")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://host:8786.")
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="A budget in seconds, start-up included: cheap algorithms first, nothing "
                   "started once it is spent, running fits stopped at it; finished ones kept.")
@click.option("--race/--no-race", "race", default=None,
              help="Racing: after each repeat (with one repeat: after 60% of its folds) stop the "
                   "candidates worse than another beyond doubt (one-sided corrected t-test, "
                   "p < 0.01). Default: on with --quick and under --time-limit.")
@click.option("--learning-curve", "learning_curve", is_flag=True,
              help="Also draw learning curves: the best classical candidate, the best net and the "
                   "bar trained on 10%, 20%, 40%, 70% and 100% of each training fold.")
@click.option("--json", "as_json", is_flag=True, help="Print the leaderboard as JSON on stdout, nothing else.")
@handle_errors
def evaluate(project, quick, only, jobs, backend, scheduler, time_limit, race, learning_curve, as_json):
    """Spot-check every algorithm on every view and print the leaderboard.

    Ensembles of the best candidates (`ensemble`: greedy selection; `stack`: a linear model
    on their outputs) are made from the stored out-of-fold predictions and ranked with them.
    """
    from dlrun import api
    from dlrun.console import RichReporter

    reporter = RichReporter()
    board = api.evaluate(project, quick=quick, only=only, jobs=jobs, backend=backend,
                         scheduler=scheduler, time_limit=time_limit, race=race,
                         learning_curve=learning_curve,
                         reporter=reporter)
    _show_board(board, as_json)
    if not board["rows"]:
        sys.exit(1)


def _show_board(board, as_json):
    if as_json:
        click.echo(json.dumps(board, default=str))
        return
    from rich.console import Console

    from dlrun.console import leaderboard_table, summary_lines

    console = Console()
    console.print(leaderboard_table(board))
    for line in summary_lines(board):
        console.print(line, highlight=False)


@main.command()
@click.argument("project")
@click.option("--top", type=click.IntRange(min=1), metavar="K",
              help="Tune the K best algorithms of the leaderboard (default 3, or tuning.top).")
@click.option("--trials", type=click.IntRange(min=1), metavar="N",
              help="Trials to add to each study (default 20, or tuning.trials).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="Seconds for the whole call; unfinished studies keep their trials.")
@click.option("--storage", metavar="URL",
              help="Optuna storage of the studies (default: the project's .dlrun/tuning.sqlite; "
                   "postgresql://... lets several machines share them).")
@click.option("--jobs", "-j", type=int, default=1, show_default=True,
              help="Parallel processes for each trial's fits (-1: all cores).")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the fits run (dask: on a Dask cluster).")
@click.option("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://host:8786.")
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="A budget in seconds, start-up included: cheap algorithms first, nothing "
                   "started once it is spent, running fits stopped at it; finished ones kept.")
@click.option("--json", "as_json", is_flag=True, help="Print the studies as JSON on stdout, nothing else.")
@handle_errors
def tune(project, top, trials, timeout, storage, jobs, backend, scheduler, time_limit, as_json):
    """Tune the best candidates; tuned rows join the leaderboard.

    Each of the best algorithms gets an Optuna study (TPE, seeded; median pruning after each
    fold) on the leaderboard's folds; a second call adds trials to the same studies, and an
    interrupted trial resumes from its finished folds. The best trial's parameters are
    re-scored on a fresh resampling: that score is the ALGO+tuned row, with the tuning
    score beside it.

    \b
    Example:
      dlrun tune projects/pima --top 2 --trials 20
    """
    from dlrun import api
    from dlrun.console import RichReporter

    result = api.tune(project, top=top, trials=trials, timeout=timeout, storage=storage, jobs=jobs,
                      backend=backend, scheduler=scheduler, time_limit=time_limit,
                      reporter=RichReporter())
    if as_json:
        click.echo(json.dumps({"studies": result["studies"]}, default=str))
        return
    for study in result["studies"]:
        best = "no complete trial" if study["best"] is None else f"best {study['best']:.4f}"
        click.echo(f"{study['algorithm']} / {study['view']}: {study['trials']} trials "
                   f"({study['pruned']} pruned), {best}")
    _show_board(result["leaderboard"], False)


@main.command()
@click.argument("project")
@click.option("--portfolio", default="portfolio", show_default=True, metavar="DIR",
              help="Portfolio folder that receives the entry.")
@click.option("--force", is_flag=True,
              help="Overwrite an entry of the same name written for another project.")
@handle_errors
def report(project, portfolio, force):
    """Fit the final model and write the portfolio entry DIR/NAME/."""
    from dlrun import api
    from dlrun.console import RichReporter

    entry = api.report(project, portfolio=portfolio, force=force, reporter=RichReporter())
    click.echo(f"Wrote {entry} (README.md, report.html, results.json, model/)")


@main.command()
@click.argument("project")
@click.option("--portfolio", default="portfolio", show_default=True, metavar="DIR",
              help="Portfolio folder that receives the entry.")
@click.option("--jobs", "-j", type=int, default=1, show_default=True,
              help="Parallel processes for the fits (-1: all cores).")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the fits run (dask: on a Dask cluster).")
@click.option("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://host:8786.")
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="A budget in seconds, start-up included: cheap algorithms first, nothing "
                   "started once it is spent, running fits stopped at it; finished ones kept.")
@click.option("--race/--no-race", "race", default=None,
              help="Racing in the evaluation (see `dlrun evaluate --help`). Default: on under "
                   "--time-limit.")
@click.option("--force", is_flag=True,
              help="Overwrite an entry of the same name written for another project.")
@handle_errors
def run(project, portfolio, jobs, backend, scheduler, time_limit, race, force):
    """Evaluate, tune and report in one go.

    The steps of `dlrun evaluate`, `dlrun tune` (the project's tuning settings) and
    `dlrun report`, in one process; every finished fit is kept as they go.

    \b
    Example:
      dlrun run projects/pima --portfolio portfolio --jobs 2
    """
    from dlrun import api
    from dlrun.console import RichReporter

    entry = api.run(project, portfolio=portfolio, jobs=jobs, backend=backend, scheduler=scheduler,
                    force=force, time_limit=time_limit, race=race, reporter=RichReporter())
    click.echo(f"Wrote {entry}")


@main.command()
@click.argument("entry")
@click.option("--data", "data", required=True, metavar="PATH", help="New rows (same columns as training).")
@click.option("--out", metavar="PATH", help="Where to write predictions (CSV; default: stdout).")
@handle_errors
def predict(entry, data, out):
    """Predict new rows with a saved portfolio entry's model."""
    from dlrun import api

    frame = api.predict(entry, data, out)
    if out:
        click.echo(f"Wrote {len(frame)} predictions to {out}", err=True)


@main.command()
@click.argument("project")
@click.option("--candidate", metavar="ALGO/VIEW",
              help="A leaderboard row (default: the best), e.g. xgboost/standardize.")
@click.option("--out", metavar="PATH", help="Where to write the CSV (default: stdout).")
@handle_errors
def predictions(project, candidate, out):
    """Write a candidate's stored out-of-fold predictions as CSV.

    Columns: row, repeat, fold, y_true, y_pred, and one probability column per
    class. Nothing is refitted: the predictions were stored with the scores.
    """
    from dlrun import api
    from dlrun.io import check_output_file

    if out:
        check_output_file(out, "--out")
    frame = api.predictions(project, candidate=candidate)
    text = frame.to_csv(index=False)
    if out:
        from dlrun.io import atomic_write_text

        atomic_write_text(out, text)
        click.echo(f"Wrote {len(frame)} predictions to {out}", err=True)
    else:
        click.echo(text, nl=False)


@main.command(name="catalogue")
@handle_errors
def catalogue_cmd():
    """List the kinds of data, algorithms, views and metrics dlrun knows."""
    from dlrun.catalogue import ALGORITHMS, KINDS, METRICS, VIEWS
    from dlrun.plugins import load_plugins

    load_plugins()
    click.echo("kinds (new --template KIND):")
    for name, kind in KINDS.items():
        tasks = "/".join(kind.tasks) + (" (default)" if kind.default else "")
        click.echo(f"  {name:14} {tasks:27} {kind.description}")
    click.echo("algorithms:")
    for name, info in ALGORITHMS.items():
        reads = "/".join(info.accepts)
        click.echo(f"  {name:14} {info.role:8} {reads:18} {info.description}")
    click.echo("views:")
    for name, info in VIEWS.items():
        click.echo(f"  {name:14} {info.kind:11} {'/'.join(info.provides):18} {info.description}")
    click.echo("metrics:")
    for name, info in METRICS.items():
        better = "higher" if info.greater_is_better else "lower"
        what = "class labels" if info.classification else "numbers"
        click.echo(f"  {name:18} {what:13} {better} is better")
