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
        except BrokenPipeError:  # `dlrun predict ... | head`: the reader has all it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # nothing more to flush into the closed pipe
            sys.exit(141)  # 128 + SIGPIPE, as a shell tool killed by the signal
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


def _tracking_options(fn):
    """``--mlflow [URI]`` and ``--tensorboard DIR`` (:mod:`dlrun.evaluation.trackers`)."""
    fn = click.option("--tensorboard", metavar="DIR",
                      help="Write each net's training curves (loss, validation loss and metric "
                           "per epoch, every fold) as TensorBoard event files under "
                           "DIR/PROJECT/ALGORITHM/VIEW/FOLD/; view them with `tensorboard "
                           "--logdir DIR`. Needs the 'tracking' extra.")(fn)
    return click.option("--mlflow", metavar="[URI]", is_flag=False, flag_value="", default=None,
                        help="Log every candidate to MLflow: one run each with its parameters, "
                             "fold scores and mean scores (and, for `run`, the final model). "
                             "URI: a tracking URI (sqlite:///mlflow.db, http://HOST:5000); "
                             "without one, MLflow's default local store in the current folder "
                             "(mlflow.db, artifacts in mlruns/), which `mlflow ui` and "
                             "mlflow.search_runs() read. Put it after PROJECT. Needs the "
                             "'tracking' extra.")(fn)


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
    """Scaffold a project DIR/NAME with a project.yaml inferred from the data.

    With --data, the task, target (default: the last column), metric, column types and
    missing-value markers are read from the data; without it, a commented template.
    An existing project is never overwritten.

    \b
    Examples:
      dlrun new pima --data pima-indians-diabetes.csv --no-header
      dlrun new cancer --data sklearn:breast_cancer
      dlrun new sales --template timeseries --data monthly-shampoo-sales.csv --test-size 12
    """
    from dlrun.scaffold import new_project

    path = new_project(name, template=template, data=data, target=target,
                       header=False if no_header else None, directory=directory,
                       test_size=test_size, horizon=horizon, text=document_column)
    click.echo(f"Created {path}")
    click.echo(f"Next: read {path}/README.md, then `dlrun validate {path}` and `dlrun evaluate {path}`.")


@main.command()
@click.argument("project")
@click.option("--json", "as_json", is_flag=True,
              help="Print the summary and the data profile as JSON on stdout, nothing else.")
@handle_errors
def validate(project, as_json):
    """Check the spec and the data without training.

    Prints the data profile too: per column its type, missing and zero shares, range and
    distinct values, and warnings (suspicious zeros, constant or identifier-like columns, a
    likely target leak, class imbalance). Warnings do not fail the check.

    \b
    Examples:
      dlrun validate projects/pima
      dlrun validate projects/pima --json
    """
    from dlrun import api

    summary = api.validate(project)
    if as_json:
        click.echo(json.dumps(summary, default=str))
        return
    click.echo(f"{summary['project']}: OK — {summary['description']}; {summary['task']} of "
               f"'{summary['target']}' scored by {summary['metric']}.")
    if "classes" in summary:
        click.echo("classes: " + ", ".join(f"{k}: {v}" for k, v in summary["classes"].items()))
    profile = summary.get("profile")
    if profile:
        click.echo("data profile:")
        for line in _aligned(_profile_rows(profile)):
            click.echo(line)
    for warning in summary.get("warnings") or []:
        click.echo(f"warning: {warning}", err=True)
    for found in (profile or {}).get("warnings") or []:
        click.echo(f"warning: {found['column']} ({found['check']}): {found['message']}", err=True)


def _profile_rows(profile: dict) -> list[tuple[str, ...]]:
    """The data profile as rows of text cells, a header first."""
    def share(value):
        return "" if value is None else "0" if value == 0 else "<0.1%" if value < 0.001 else f"{100 * value:.1f}%"

    def number(value):
        return "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)

    flagged: dict[str, list[str]] = {}
    for found in profile.get("warnings") or []:
        flagged.setdefault(str(found["column"]), []).append(str(found["check"]))
    rows = [("column", "type", "missing", "zeros", "min", "max", "distinct", "warnings")]
    rows += [(str(c["column"]), str(c["type"]), share(c.get("missing")), share(c.get("zeros")),
              number(c.get("min")), number(c.get("max")), str(c.get("distinct", "")),
              ", ".join(flagged.get(str(c["column"]), [])) or "-")
             for c in profile.get("columns") or []]
    return rows


@main.command()
@handle_errors
def schema():
    """Print the JSON Schema of project.yaml (for editor autocompletion).

    \b
    Example:
      dlrun schema > project.schema.json
    """
    from dlrun.spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
@click.argument("project")
@click.option("--quick", is_flag=True, help="5 folds x 1 repeat: a fast first look.")
@click.option("--only", callback=_split_list, metavar="ALGO,...", help="Evaluate only these algorithms.")
@click.option("--jobs", "-j", type=int, default=1, show_default=True,
              help="Parallel processes for the fits (-1: all cores).")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the fits run (dask: on a Dask cluster, see --scheduler).")
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
@_tracking_options
@handle_errors
def evaluate(project, quick, only, jobs, backend, scheduler, time_limit, race, learning_curve, as_json,
             mlflow, tensorboard):
    """Spot-check every algorithm on every view and print the leaderboard.

    Ensembles of the best candidates (`ensemble`: greedy selection; `stack`: a linear model
    on their outputs) are made from the stored out-of-fold predictions and ranked with them.
    Every finished fit is kept: a second call computes only what is missing.

    \b
    Examples:
      dlrun evaluate projects/pima --quick
      dlrun evaluate projects/pima --only linear,xgboost,mlp --jobs 2
      dlrun evaluate projects/pima --json > leaderboard.json
      dlrun evaluate projects/pima --mlflow --tensorboard tb-logs
    """
    from dlrun import api
    from dlrun.console import RichReporter

    reporter = RichReporter()
    board = api.evaluate(project, quick=quick, only=only, jobs=jobs, backend=backend,
                         scheduler=scheduler, time_limit=time_limit, race=race,
                         learning_curve=learning_curve, mlflow=mlflow, tensorboard=tensorboard,
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
@_tracking_options
@handle_errors
def tune(project, top, trials, timeout, storage, jobs, backend, scheduler, time_limit, as_json,
         mlflow, tensorboard):
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
                      mlflow=mlflow, tensorboard=tensorboard, reporter=RichReporter())
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
@click.option("--mlflow", metavar="[URI]", is_flag=False, flag_value="", default=None,
              help="Also log the final model to MLflow (its parameters, score and the entry's "
                   "model/, README.md, report.html, results.json as artifacts). URI as for "
                   "`dlrun evaluate --mlflow`; without one, MLflow's default local store. "
                   "Needs the 'tracking' extra.")
@handle_errors
def report(project, portfolio, force, mlflow):
    """Fit the final model and write the portfolio entry DIR/NAME/.

    The report stands on the stored evaluation (`dlrun evaluate`) and names it: the complete
    one if it matches project.yaml, else the last --quick or --only run (flagged in the
    headline and the index). It never evaluates anything itself: a project never evaluated,
    or whose stored evaluation no longer matches project.yaml (task, metric, data, protocol,
    candidates), is refused (exit 2) with the command to run. Besides the final model, the
    only fits are the explanations' (its recipe on a few training folds, for permutation
    importance on held-out rows); the diagnostics read the stored out-of-fold predictions.

    Each report is also kept whole as a dated run under DIR/NAME/runs/: the entry shows
    the latest and links the earlier ones with their scores. The portfolio's index
    (DIR/index.md, DIR/index.html) is refreshed.

    \b
    Examples:
      dlrun report projects/pima
      dlrun report projects/pima --portfolio my-portfolio
    """
    from dlrun import api
    from dlrun.console import RichReporter

    entry = api.report(project, portfolio=portfolio, force=force, mlflow=mlflow,
                       reporter=RichReporter())
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
@_tracking_options
@handle_errors
def run(project, portfolio, jobs, backend, scheduler, time_limit, race, force, mlflow, tensorboard):
    """Evaluate, tune and report in one go.

    The steps of `dlrun evaluate`, `dlrun tune` (the project's tuning settings) and
    `dlrun report`, in one process; every finished fit is kept as they go.

    \b
    Examples:
      dlrun run projects/pima --portfolio portfolio --jobs 2
      dlrun run projects/pima --time-limit 600 --mlflow
    """
    from dlrun import api
    from dlrun.console import RichReporter

    entry = api.run(project, portfolio=portfolio, jobs=jobs, backend=backend, scheduler=scheduler,
                    force=force, time_limit=time_limit, race=race, mlflow=mlflow,
                    tensorboard=tensorboard, reporter=RichReporter())
    click.echo(f"Wrote {entry}")


def _split_columns(ctx, param, value):
    if value is None:
        return ()
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise click.BadParameter("names no column; give COL,... or leave the option out", param=param)
    return tuple(names)


@main.command()
@click.argument("entry")
@click.option("--data", "data", required=True, metavar="PATH",
              help="The new inputs: a CSV or Parquet file for a table (the target column absent "
                   "or ignored), a folder or file as the model's kind of data takes, or - to read "
                   "CSV from standard input.")
@click.option("--out", metavar="PATH", help="CSV file for the predictions (default: standard output).")
@click.option("--header/--no-header", "header", default=None,
              help="Whether the first row of a table names its columns (default: detected against "
                   "the training columns). With a header, columns are matched by name: reordered, "
                   "others ignored with a note.")
@click.option("--keep", callback=_split_columns, metavar="COL,...",
              help="Columns of the input table (or of a CSV of documents) copied to the output "
                   "as written, first: identifiers.")
@handle_errors
def predict(entry, data, out, header, keep):
    """Predict new inputs with a saved portfolio entry's model.

    Writes one row per input: the --keep columns, `prediction` and, for a classifier, one
    probability column per class (`p_CLASS`, full precision).

    \b
    Examples:
      dlrun predict portfolio/pima --data new-rows.csv --out predictions.csv
      dlrun predict portfolio/pima --data rows-with-ids.csv --keep id
      cat new-rows.csv | dlrun predict portfolio/pima --data - > predictions.csv
    """
    from dlrun import api

    source = click.get_binary_stream("stdin") if data == "-" else data
    frame = api.predict(entry, source, out, header=header, keep=keep)
    for note in frame.attrs.get("notes") or []:
        click.echo(f"note: {note}", err=True)
    if out:
        click.echo(f"Wrote {len(frame)} predictions to {out}", err=True)
    else:
        click.echo(frame.to_csv(index=False), nl=False)


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

    \b
    Examples:
      dlrun predictions projects/pima --out oof.csv
      dlrun predictions projects/pima --candidate xgboost/standardize
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


@main.command(name="portfolio")
@click.argument("directory", default="portfolio", metavar="[DIR]")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON on stdout, nothing else.")
@handle_errors
def portfolio_cmd(directory, as_json):
    """List the portfolio's entries and refresh its index.

    DIR (default: portfolio) holds one entry folder per project, as `dlrun report` writes
    them. index.md and index.html are rewritten from every entry's results.json; the HTML
    index sorts by any column (click its heading). Each entry keeps every report as a dated
    run under NAME/runs/.

    \b
    Examples:
      dlrun portfolio
      dlrun portfolio my-portfolio --json
    """
    from dlrun import api

    result = api.portfolio(directory)
    if as_json:
        click.echo(json.dumps(result, default=str))
        return
    entries = result["entries"]
    if entries:
        rows = [("project", "best model", "score", "protocol", "over baseline", "runs", "date")]
        rows += [(e["name"], e["best"], e["score"], e["protocol"], e["over_baseline"] or "-",
                  str(e["runs"]), e["date"]) for e in entries]
        for line in _aligned(rows, indent=""):
            click.echo(line)
    else:
        click.echo(f"{directory}: no finished entries yet (`dlrun report PROJECT --portfolio "
                   f"{directory}` adds one)")
    click.echo(f"Wrote {result['index'][0]} and {result['index'][1]}", err=True)


def _aligned(rows, indent: str = "  ") -> list[str]:
    """Rows of cells as lines, each column but the last padded to its widest cell."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [(indent + "  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)),
                                 row[-1]])).rstrip()
            for row in rows]


@main.command(name="catalogue")
@handle_errors
def catalogue_cmd():
    """List the kinds of data, algorithms, views and metrics dlrun knows.

    \b
    Example:
      dlrun catalogue
    """
    from dlrun.catalogue import ALGORITHMS, KINDS, METRICS, VIEWS
    from dlrun.plugins import load_plugins

    load_plugins()
    click.echo("kinds (new --template KIND):")
    for line in _aligned([(name, "/".join(kind.tasks) + (" (default)" if kind.default else ""),
                           kind.description) for name, kind in KINDS.items()]):
        click.echo(line)
    click.echo("algorithms (opt-in: only when --only or project.yaml's algorithms: names it):")
    for line in _aligned([(name, info.role + (" opt-in" if info.opt_in else ""),
                           "/".join(info.accepts), info.description)
                          for name, info in ALGORITHMS.items()]):
        click.echo(line)
    click.echo("views:")
    for line in _aligned([(name, info.kind, "/".join(info.provides), info.description)
                          for name, info in VIEWS.items()]):
        click.echo(line)
    click.echo("metrics:")
    for line in _aligned([(name, "class labels" if info.classification else "numbers",
                           f"{'higher' if info.greater_is_better else 'lower'} is better")
                          for name, info in METRICS.items()]):
        click.echo(line)
