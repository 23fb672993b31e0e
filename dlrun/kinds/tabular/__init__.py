"""Tables of examples (``kind: tabular``): classification and regression on CSV, Parquet
or a dataset bundled with scikit-learn.

* data: :mod:`.data` (features and a target from :func:`dlrun.data.sources.read_frame`);
* views: :mod:`.views` (``raw``, ``standardize``, ``normalize``, ``power``);
* ``dlrun new``: :mod:`.scaffold`; ``dlrun predict``: :mod:`.predict`.

Resampling, estimators and folds are the defaults of :class:`dlrun.kind.Kind`
(repeated stratified k-fold, ``Pipeline([view, model])``). Importing this
package is light: each method imports what it needs.
"""

from __future__ import annotations

from typing import Any

from dlrun.kind import Kind

NAME = "tabular"
TASKS = ("classification", "regression")


class TabularKind(Kind):
    name = NAME
    description = "a table of examples: one row each, the target in a column (CSV, Parquet, sklearn:NAME)"
    tasks = TASKS
    default = True
    rank = 0
    data_help = "a CSV or Parquet file, or sklearn:NAME"

    def draft(self, request):
        from dlrun.kinds.tabular.scaffold import tabular_draft

        return tabular_draft(request)

    def spec_header(self) -> str:
        from dlrun.kinds.tabular.scaffold import SPEC_HEADER

        return SPEC_HEADER

    def task_phrase(self, task: str) -> str:
        return ("classification: which class a row belongs to" if task == "classification"
                else "regression: a number")

    def load(self, spec, project_dir):
        from dlrun.kinds.tabular.data import load_table

        return load_table(spec, project_dir)

    def summary(self, dataset) -> dict[str, Any]:
        from dlrun.data.dataset import basic_summary

        summary = basic_summary(dataset)
        summary.update(numeric=len(dataset.numeric), categorical=len(dataset.categorical),
                       missing_cells=int(dataset.X.isna().sum().sum()))
        return summary

    def describe(self, summary) -> str:
        return (f"{summary['rows']} rows, {summary['features']} features ({summary['numeric']} numeric, "
                f"{summary['categorical']} categorical), {summary['missing_cells']} missing cells")

    def read_inputs(self, bundle, path, *, header=None, keep=()):
        """New rows: ``header`` (None: detected against the training columns), columns matched
        by name, ``keep`` columns passed through (:mod:`.predict`)."""
        from dlrun.kinds.tabular.predict import read_new_rows

        return read_new_rows(bundle, path, header=header, keep=keep)

    def example(self, task: str, rows: int = 60, seed: int = 0):
        """Two numbers (one with missing cells, one on another scale) and a categorical."""
        import numpy as np
        import pandas as pd

        from dlrun.data.dataset import Dataset

        rng = np.random.default_rng(seed)
        X = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows) * 100,
                          "colour": rng.choice(["red", "green", "blue"], size=rows).astype(object)})
        X.loc[::11, "a"] = np.nan
        X.loc[::13, "colour"] = np.nan
        if task == "classification":
            y = (X["a"].fillna(0) + (X["colour"] == "red") > 0.2).astype(int).to_numpy().copy()
            y[::7] = 2  # a third class
            target = pd.Series(np.array(["no", "yes", "maybe"], dtype=object)[y], name="label")
        else:
            target = pd.Series(2 * X["a"].fillna(0).to_numpy() + rng.normal(scale=0.1, size=rows),
                               name="y")
        return Dataset(X, target, task, NAME, numeric=["a", "b"], categorical=["colour"])


KIND = TabularKind()
