"""Prepare: load the data, choose the protocol, the views and the candidates."""

from __future__ import annotations

from typing import Any

from dlrun.catalogue import (
    ALGORITHMS,
    KINDS,
    algorithms_for,
    compatible,
    equivalent_views,
    views_for,
)
from dlrun.errors import ArgumentError
from dlrun.evaluation.candidates import Candidate
from dlrun.io import atomic_write_json
from dlrun.stages.base import RunContext, Stage


def selected_algorithms(spec, views: list[str], only: list[str] | None) -> list[str]:
    """The algorithms to evaluate: project.yaml's ``algorithms:``, else the default suite;
    ``only`` narrows them, and may also name an opt-in algorithm when project.yaml lists none."""
    names = list(spec.algorithms or algorithms_for(spec.task, spec.kind, views, default_suite=True))
    if only and not spec.algorithms:
        names = algorithms_for(spec.task, spec.kind, views)
    if only:
        unknown = [n for n in only if n not in ALGORITHMS]
        if unknown:
            raise ArgumentError(
                f"unknown algorithm(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}",
                field="--only",
            )
        unusable = [n for n in only if n not in names]
        if unusable:
            raise ArgumentError(
                f"{', '.join(unusable)} not available for this project (it lists: {', '.join(names)})",
                field="--only",
            )
        names = [n for n in names if n in only]
    return names


class PrepareStage(Stage):
    name = "prepare"

    def run(self, context: RunContext) -> dict[str, Any]:
        spec, opts = context.spec, context.options
        dataset = context.dataset
        kind = KINDS.get(dataset.kind)
        ev = spec.evaluation
        plan = kind.plan(spec, dataset, bool(opts.get("quick")))
        views = list(spec.views or views_for(dataset.kind))
        algos = selected_algorithms(spec, views, opts.get("only"))
        # every (algorithm, view) pair that meets on a type, once per class of views on which
        # the algorithm fits the same model (trees on order-keeping views, the baseline)
        candidates = [Candidate(a, group[0], spec.params.get(a, {}), also=tuple(group[1:]))
                      for a in algos for group in equivalent_views(a, views)]
        pairs = sum(1 for a in algos for v in views if compatible(a, v))
        slow_max_rows = ev.max_rows  # None: each slow algorithm's own cap
        from dlrun.evaluation.runner import row_cap

        train_rows = max((len(f.train) for f in plan.folds), default=0)
        capped = {}
        for a in algos:
            cap = row_cap(a, slow_max_rows)
            if cap and train_rows > cap:
                capped.setdefault(cap, []).append(a)
        for cap, names in sorted(capped.items()):
            plan.notes.append(
                f"{', '.join(names)} train on a {cap:,}-row subsample of each {train_rows:,}-row "
                "training fold (set evaluation.max_rows to change)"
            )
        for warning in dataset.meta.get("warnings") or []:  # what reading the data changed
            context.reporter.message(warning, "warning")
        for note in plan.notes:
            context.reporter.message(note, "warning" if "reduced" in note or "single" in note else "info")
        folded = pairs - len(candidates)
        context.reporter.message(
            f"plan: {len(candidates)} candidates ({len(algos)} algorithms x {len(views)} views"
            + (f"; {folded} pairs fit the same model as another view and are not repeated"
               if folded else "")
            + f") x {len(plan.folds)} folds = {len(candidates) * len(plan.folds)} fits", "info")
        summary = kind.summary(dataset)
        atomic_write_json(context.state_dir / "prepare.json", {
            "data": summary, "protocol": plan.describe(), "views": views, "algorithms": algos,
            "notes": plan.notes,
        })
        return {"plan": plan, "candidates": candidates, "views": views, "algorithms": algos,
                "slow_max_rows": slow_max_rows, "data_summary": summary}
