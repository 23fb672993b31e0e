"""Prepare: load the data, choose the protocol, the views and the candidates."""

from __future__ import annotations

import math
from typing import Any

from dlrun.catalogue import ALGORITHMS, VIEWS, algorithms_for, views_for
from dlrun.errors import ArgumentError
from dlrun.evaluation.candidates import Candidate
from dlrun.evaluation.resampling import choose_protocol, kfold_plan
from dlrun.io import atomic_write_json
from dlrun.stages.base import RunContext, Stage


def selected_algorithms(spec, data_kind: str, only: list[str] | None) -> list[str]:
    names = list(spec.algorithms or algorithms_for(spec.task, data_kind))
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


def kfold_planner(spec, dataset, quick: bool):
    """Repeated (stratified) k-fold, scaled to the data size: tabular data and images."""
    ev = spec.evaluation
    folds, repeats, notes = choose_protocol(
        dataset.n_rows, ev.folds, ev.repeats, explicit=ev.model_fields_set, quick=quick
    )
    plan = kfold_plan(dataset.encoded_target(), spec.task, folds, repeats, ev.seed)
    plan.notes[:0] = notes
    return plan


class PrepareStage(Stage):
    name = "prepare"

    def run(self, context: RunContext) -> dict[str, Any]:
        from dlrun.catalogue import PLANNERS

        spec, opts = context.spec, context.options
        dataset = context.dataset
        ev = spec.evaluation
        planner = PLANNERS.get(dataset.kind) if dataset.kind in PLANNERS else kfold_planner
        plan = planner(spec, dataset, bool(opts.get("quick")))
        views = list(spec.views or views_for(dataset.kind))
        algos = selected_algorithms(spec, dataset.kind, opts.get("only"))
        candidates = [Candidate(a, v, spec.params.get(a, {})) for a in algos for v in views
                      if VIEWS.get(v).suits(a)]
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
        for note in plan.notes:
            context.reporter.message(note, "warning" if "reduced" in note or "single" in note else "info")
        context.reporter.message(
            f"plan: {len(candidates)} candidates ({len(algos)} algorithms x {len(views)} views) x "
            f"{len(plan.folds)} folds = {len(candidates) * len(plan.folds)} fits", "info")
        summary = data_summary(dataset)
        atomic_write_json(context.state_dir / "prepare.json", {
            "data": summary, "protocol": plan.describe(), "views": views, "algorithms": algos,
            "notes": plan.notes,
        })
        return {"plan": plan, "candidates": candidates, "views": views, "algorithms": algos,
                "slow_max_rows": slow_max_rows, "data_summary": summary}


def data_summary(dataset) -> dict[str, Any]:
    summary = {
        "rows": int(dataset.n_rows),
        "features": int(math.prod(dataset.X.shape[1:])),  # images: pixels x channels
        "numeric": len(dataset.numeric),
        "categorical": len(dataset.categorical),
        "missing_cells": int(dataset.X.isna().sum().sum()) if hasattr(dataset.X, "isna") else 0,
        "target": str(dataset.y.name),
    }
    if dataset.task == "classification":
        counts = dataset.y.value_counts()
        summary["classes"] = {str(k): int(counts.get(k, 0)) for k in dataset.classes}
    else:
        y = dataset.y.astype(float)
        summary["target_stats"] = {"mean": float(y.mean()), "std": float(y.std()),
                                   "min": float(y.min()), "max": float(y.max())}
    return summary
