"""The interface every kind of data implements (``kind:`` in project.yaml).

A kind owns everything that depends on what the data *is*: its block of
project.yaml, how it is loaded, how its rows are split for evaluation, how a
candidate becomes an estimator and how one fold is fitted and predicted, the
scaffold draft of ``dlrun new``, what ``dlrun predict`` reads, the data
summary and its own report sections. The core (spec, scaffold, evaluation,
stages, report, predict, CLI) calls these methods and never names a kind.

A kind is one package (dlrun's own live in ``dlrun/kinds/``) exposing an
instance of a :class:`Kind` subclass through the ``dlrun.kinds`` entry-point
group; its views and algorithms are entry points of their own groups. The
defaults below suit data whose rows are exchangeable examples (tables,
pictures, documents): repeated (stratified) k-fold, a ``Pipeline`` of the view
and the model, predictions row by row. Importing a kind's package must stay
light (no pydantic, NumPy or scikit-learn): heavy imports go in its methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dlrun.catalogue import ALGORITHMS, CLASSIFICATION, VIEWS, BuildContext


class Kind:
    """Base class of the kinds of data; subclasses override what differs."""

    #: the ``kind:`` value in project.yaml (also the entry point's name)
    name: str = ""
    description: str = ""
    #: the tasks this kind offers, the first being the default
    tasks: tuple[str, ...] = ()
    #: place in listings
    rank: int = 100
    #: the kind a spec without ``kind:`` gets (exactly one kind sets it)
    default: bool = False
    #: ``dlrun new`` options this kind accepts beyond the common ones (python names)
    new_options: tuple[str, ...] = ()
    #: a line for ``dlrun new --help`` and the catalogue: what ``--data`` takes
    data_help: str = ""

    #: the key of this kind's own block of project.yaml (e.g. ``series``), if it has one
    block: str | None = None
    #: data formats this kind reads beyond csv, parquet and sklearn (``data.format``)
    formats: tuple[str, ...] = ()
    #: qualified names of the classes this kind puts into a saved model (its views,
    #: forecasters, ...): the only types of its own a model file may hold (dlrun.modelfile)
    trusted_types: tuple[str, ...] = ()

    # -- project.yaml -----------------------------------------------------------------
    def block_model(self) -> Any:
        """The pydantic model of :attr:`block` (imported when called: pydantic is heavy)."""
        return None

    def spec_block(self) -> tuple[str, Any] | None:
        """``(key, pydantic model)`` of this kind's own block of project.yaml, or None."""
        return (self.block, self.block_model()) if self.block else None

    def metrics(self, task: str) -> tuple[str, ...] | None:
        """The metrics this kind allows for ``task`` (None: every metric suiting its target)."""
        return None

    def check_spec(self, spec) -> None:
        """Further checks of a parsed spec (raise ``ValueError`` naming the field)."""

    # -- dlrun new ----------------------------------------------------------------------
    def draft(self, request):
        """The :class:`dlrun.scaffold.Draft` of a new project from ``request``."""
        raise NotImplementedError(f"kind '{self.name}' cannot scaffold projects")

    def spec_header(self) -> str:
        """Comment lines written above project.yaml by ``dlrun new``."""
        return ("# dlrun project spec (made by `dlrun new`; edit freely, then run `dlrun validate`).\n"
                "# `dlrun schema` prints every key with its meaning.\n")

    def task_phrase(self, task: str) -> str:
        """How the project README words the task."""
        return f"{task}: which class a row belongs to" if task == CLASSIFICATION else f"{task}: a number"

    # -- data and evaluation ---------------------------------------------------------
    def load(self, spec, project_dir):
        """Read the data ``spec.data`` names into a :class:`dlrun.data.dataset.Dataset`."""
        raise NotImplementedError

    def plan(self, spec, dataset, quick: bool):
        """The resampling plan (default: repeated, stratified for classes, k-fold)."""
        from dlrun.evaluation.resampling import kfold_planner

        return kfold_planner(spec, dataset, quick)

    def context_meta(self, dataset) -> Mapping[str, Any]:
        """Facts of the data every builder may read (``BuildContext.meta``)."""
        return dict(dataset.meta.get("context") or {})

    def estimator(self, candidate, context: BuildContext, roles: Mapping[str, list[str]]):
        """The unfitted estimator of a candidate: ``Pipeline([view, model])`` by default.
        ``context`` already carries the pair's input type and the view's traits; ``roles``
        maps column roles to column names (``{"numeric": [...], "categorical": [...]}``)."""
        from sklearn.pipeline import Pipeline

        view = VIEWS.get(candidate.view).build(dict(roles))
        model = ALGORITHMS.get(candidate.algorithm).make(context, candidate.params)
        return Pipeline([("view", view), ("model", model)])

    def folds(self):
        """How one fold is fitted and predicted (:class:`dlrun.evaluation.jobs.FoldRunner`)."""
        from dlrun.evaluation.jobs import PipelineFolds

        return PipelineFolds()

    def summary(self, dataset) -> dict[str, Any]:
        """Facts about the data for ``dlrun validate``, the leaderboard and the report."""
        from dlrun.data.dataset import basic_summary

        return basic_summary(dataset)

    def describe(self, summary: Mapping[str, Any]) -> str:
        """``dlrun validate``'s one-line description of the data."""
        return f"{summary['rows']} rows, {summary.get('features', '?')} features"

    def mark_same_as_best(self, board: dict[str, Any], stored) -> None:
        """Mark ``same_as_best`` and ``p_value`` on the leaderboard's rows, ranked best first
        (in place), by a test that suits this kind's resampling.

        ``stored`` reads what the evaluation stored of a row, nothing is refitted:
        ``stored.outputs(row)`` its out-of-fold predictions ``[(Fold, Prediction)]`` in plan
        order, ``stored.extras(row)`` ``[(Fold, dict)]`` what each fold's model recorded; both
        None for a row without stored folds (a tuned row on another resampling);
        ``stored.y`` the target they were scored against. A kind may
        also add what it derives from them -- fields of a row, or rows computed from other
        rows' stored outputs -- keeping the rows ranked.

        The default: the corrected resampled t-test over the rows' fold scores
        (:func:`dlrun.evaluation.stats.mark_same_as_best`), as the leaderboard was built.
        """
        from dlrun.evaluation.stats import mark_same_as_best

        test_fraction = (board.get("protocol") or {}).get("test_fraction") or 0.1
        mark_same_as_best(board.get("rows") or [], test_fraction)

    # -- dlrun predict ------------------------------------------------------------------
    def read_inputs(self, bundle: Mapping[str, Any], path):
        """The inputs of new rows from ``path``, as the saved model expects them."""
        raise NotImplementedError(f"kind '{self.name}' cannot read new inputs")

    def predict_hint(self) -> str:
        """What ``--data`` of ``dlrun predict`` takes, as a report shows it."""
        return "new.csv"

    # -- report -------------------------------------------------------------------------
    def report_sections(self, context) -> list:
        """The :class:`dlrun.report.model.Section` list this kind adds to a portfolio entry.

        ``context`` is a :class:`dlrun.report.context.ReportContext`: the spec, the dataset,
        the leaderboard, the final model (``pipeline``, fitted on all the data, and
        ``final_model``, what was saved), the report stage's run context and a reporter.
        Sections read what the evaluation stored -- ``context.out_of_fold(row)`` gives a
        row's ``[(Fold, Prediction)]``, ``context.fold_extras(row)`` what each fold's model
        recorded (a net's ``curves``); both are None when not available -- and never fit
        a model. Blocks hold plain text (the renderers escape it).
        """
        return []

    # -- tests ----------------------------------------------------------------------------
    def example(self, task: str, rows: int = 60, seed: int = 0):
        """A tiny dataset of this kind (the contract tests run every algorithm on it)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<kind {self.name}>"

