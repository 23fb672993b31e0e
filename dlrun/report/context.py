"""What every report section is built from: :class:`ReportContext`.

The report stage makes one after fitting the final model; a section reads the
spec, the dataset, the leaderboard, the final model (its pipeline and what was
saved of it), and -- through :meth:`ReportContext.out_of_fold` and
:meth:`ReportContext.fold_extras` -- what the evaluation stored of every fold,
so that no section ever fits a model. Outside a run (a test writing an entry
from a leaderboard alone) the run, the dataset and the pipeline are None and
the stored results are simply not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

from dlrun.report import analysis as A


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class ReportContext:
    """The inputs of a report and what is derived from them once."""

    spec: Any
    leaderboard: dict
    final_model: dict = field(default_factory=dict)
    data_summary: dict = field(default_factory=dict)
    entry_dir: Path = Path(".")
    predict_hint: str = "new.csv"
    #: the loaded data (None outside a run)
    dataset: Any = None
    #: the final model, fitted on all the data (None outside a run)
    pipeline: Any = None
    #: the report stage's RunContext (None outside a run)
    run: Any = None
    #: where a section tells the user what it is doing (a dlrun.progress.Reporter)
    reporter: Any = None
    #: ``row -> [(Fold, Prediction)]``: a row's stored out-of-fold predictions, plan order
    predictions: Callable[[dict], list] | None = None
    #: ``row -> [(Fold, dict)]``: what each fold's model recorded (a net's ``curves``)
    extras: Callable[[dict], list] | None = None
    #: ``rows -> model``: the final model's recipe fitted on those rows of the data only (the
    #: explanations score it on the rows it did not see); None outside a run
    fit_on: Callable[[Any], Any] | None = None
    #: the folds of the leaderboard's resampling (``dlrun.evaluation.resampling.Fold``)
    folds: list = field(default_factory=list)
    #: which stored evaluation the report uses (``file``, ``created``): see :mod:`.evaluation`
    evaluation: dict = field(default_factory=dict)
    created: str = field(default_factory=now)

    def __post_init__(self):
        self.entry_dir = Path(self.entry_dir)
        self.leaderboard = dict(self.leaderboard or {})
        self.final_model = dict(self.final_model or {})
        self.data_summary = dict(self.data_summary or {})
        self.evaluation = dict(self.evaluation or {})

    # -- stored results of the evaluation ---------------------------------------------
    def out_of_fold(self, row: dict) -> list | None:
        """The stored out-of-fold predictions of a leaderboard row, ``[(Fold, Prediction)]`` in
        plan order; None when they are not available (told to the reporter)."""
        return self._stored(self.predictions, row, "out-of-fold predictions")

    def fold_extras(self, row: dict) -> list | None:
        """``[(Fold, extra)]`` of a row's folds (what their models recorded); None when the
        store cannot be read."""
        return self._stored(self.extras, row, "training records")

    def _stored(self, source, row: dict, what: str) -> list | None:
        if source is None:
            return None
        from dlrun.errors import DlrunError

        try:
            return list(source(row))
        except DlrunError as err:
            self.message(f"{row.get('algorithm')}/{row.get('view')}: no stored {what} ({err})")
            return None

    def message(self, text: str) -> None:
        if self.reporter is not None:
            self.reporter.message(text)

    # -- derived once ------------------------------------------------------------------
    @cached_property
    def fmt(self) -> A.Formatter:
        return A.Formatter(A.decimals_for(self.leaderboard))

    @cached_property
    def rows(self) -> list[dict]:
        """Every row, best first (rows without a score last)."""
        return A.ordered_rows(self.leaderboard)

    @cached_property
    def summary(self) -> dict:
        return A.summarize(self.leaderboard)

    @cached_property
    def lessons(self) -> list[str]:
        from dlrun.report.lessons import derive_lessons

        return derive_lessons(self.leaderboard, self.fmt)

    @cached_property
    def flags(self) -> list[dict]:
        """What makes the evaluation less than the spec's full protocol (quick, partial, raced,
        out of time), each ``{"flag", "text"}``."""
        from dlrun.report.evaluation import protocol_flags

        return protocol_flags(self.leaderboard)

    @cached_property
    def profile(self) -> dict | None:
        """The data profile (:mod:`dlrun.data.profile`) of the loaded data; None outside a
        run or when the inputs are not a table of named columns."""
        if self.dataset is None:
            return None
        from dlrun.data.profile import profile_dataset

        return profile_dataset(self.dataset, self.metric_key, int(getattr(getattr(
            self.spec, "evaluation", None), "seed", 0) or 0))

    @property
    def best(self) -> dict | None:
        return self.summary["best"]

    @cached_property
    def metric(self) -> str:
        """The metric's label (``accuracy``, ``RMSE``)."""
        board = self.leaderboard
        return str(board.get("metric_label") or board.get("metric") or getattr(self.spec, "metric", ""))

    @property
    def metric_key(self) -> str:
        return str(self.leaderboard.get("metric") or getattr(self.spec, "metric", ""))

    @property
    def greater_is_better(self) -> bool:
        return bool(self.leaderboard.get("greater_is_better", True))

    @property
    def direction(self) -> str:
        return "higher is better" if self.greater_is_better else "lower is better"

    @property
    def name(self) -> str:
        return str(getattr(self.spec, "name", "") or self.leaderboard.get("project") or self.entry_dir.name)

    @property
    def task(self) -> str:
        return str(getattr(self.spec, "task", "") or self.leaderboard.get("task") or "")

    @property
    def target(self) -> str:
        data = getattr(self.spec, "data", None)
        return str(self.data_summary.get("target") or getattr(data, "target", "") or "")

    @property
    def failures(self) -> list[dict]:
        return [f for f in self.leaderboard.get("failures") or [] if isinstance(f, dict)]

    @cached_property
    def reference(self) -> dict | None:
        reference = getattr(self.spec, "reference", None)
        if reference is None:
            return None
        if hasattr(reference, "model_dump"):
            return reference.model_dump(mode="json")
        return dict(reference)
