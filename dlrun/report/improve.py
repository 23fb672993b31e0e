"""Report sections on improving results: the ensembles of the best candidates and the
learning curves (both entry points of ``dlrun.report_sections``).

Every verdict is computed here from the leaderboard: an ensemble against the best
single candidate by the leaderboard's own paired test, and a learning curve's last
step (the two largest training sizes, scored on the same test folds) by the
corrected resampled t-test (:mod:`dlrun.evaluation.stats`). Whether the net gains
more from data than the bar is the same test on the per-fold gains of the two.
"""

from __future__ import annotations

import math
from typing import Any

from dlrun.catalogue import ALGORITHMS, BAR, NET, ReportSection
from dlrun.report import analysis as A
from dlrun.report.model import (
    Badge,
    Bullets,
    Figure,
    Heading,
    Note,
    Paragraph,
    Section,
    Strong,
    Table,
    text,
)

#: Significance level of the learning-curve verdicts (the leaderboard's).
ALPHA = 0.05


# --------------------------------------------------------------------------- ensembles


def ensemble_rows(leaderboard: dict) -> list[dict]:
    return [r for r in A.scored_rows(leaderboard) if A.is_ensemble(r)]


def best_single(leaderboard: dict) -> dict | None:
    """The best row that is neither an ensemble nor tuned (what the ensembles are made of)."""
    return A.first(A.scored_rows(leaderboard), lambda r: not A.is_ensemble(r) and not A.is_tuned(r))


def members_text(row: dict) -> str:
    parts = []
    for m in row.get("members") or []:
        weight = m.get("weight")
        shown = f"{weight:g}" if A.finite(weight) else "?"
        parts.append(f"{m.get('algorithm')}/{m.get('view')} {shown}")
    return ", ".join(parts)


def ensemble_sentences(leaderboard: dict, fmt: A.Formatter) -> list[str]:
    """For each ensemble row: how it was made honest, and how it compares with the best single
    candidate."""
    single = best_single(leaderboard)
    out = []
    for row in ensemble_rows(leaderboard):
        selection = row.get("selection") or {}
        folds = selection.get("per_fold") or []
        seen = selection.get("labels_seen")
        chosen_on = sorted({len(f.get("chosen_on") or []) for f in folds})
        on = "/".join(str(n) for n in chosen_on) or "?"
        sentence = (f"{row['algorithm']}: the members and weights that scored each of its {len(folds)} "
                    f"folds were chosen on the out-of-fold rows of the {on} other folds of that "
                    f"fold's repeat; rows of the scored fold seen while choosing: "
                    f"{seen if seen is not None else 'unknown'}.")
        if single is not None:
            cmp = A.compare(row, single, leaderboard)
            word = "better" if cmp["margin"] > 0 else "worse" if cmp["margin"] < 0 else "no different"
            sentence += (f" It scores {fmt(row['mean'])} ± {fmt(row.get('std'))} against "
                         f"{fmt(single['mean'])} ± {fmt(single.get('std'))} for the best single "
                         f"candidate, {A.label(single)}: {fmt(abs(cmp['margin']))} {word}; "
                         f"{A.significance(cmp, fmt)}, paired on the same folds.")
        out.append(sentence)
    return out


def ensembles(ctx) -> list[Section]:
    rows = ensemble_rows(ctx.leaderboard)
    if not rows:
        return []
    fmt = ctx.fmt
    single = best_single(ctx.leaderboard)
    blocks: list[Any] = [Paragraph(
        "Ensembles of the best candidates, made from their stored out-of-fold predictions "
        "without a new fit: ensemble is greedy selection with replacement (Caruana et al. 2004), "
        "stack a regularised regression on the members' outputs (logistic on class "
        "probabilities, ridge on predictions). The member pool is the best "
        "view of each of the best algorithms (the naive floor and tuned rows left out). Each "
        "fold is scored by members and weights chosen without its labels, on the other folds "
        "of its repeat; the final model uses those chosen on every out-of-fold row.")]
    table = []
    for row in rows:
        cmp = A.compare(row, single, ctx.leaderboard) if single is not None else None
        versus = (f"{fmt(cmp['margin'], signed=True)} ({fmt.p_is(cmp['p_value'])})"
                  if cmp and cmp["tested"] else "n/a")
        seen = (row.get("selection") or {}).get("labels_seen")
        table.append((Strong(str(row["algorithm"])), f"{fmt(row['mean'])} ± {fmt(row.get('std'))}",
                      versus, Badge("0 rows", "good") if seen == 0 else Badge(str(seen), "bad"),
                      members_text(row)))
    blocks.append(Table(("ensemble", f"{ctx.metric}", "vs best single", "own labels seen",
                         "members and weights (chosen on all out-of-fold rows)"), tuple(table),
                        align=("left", "right", "right", "left", "left")))
    blocks.append(Bullets(tuple(ensemble_sentences(ctx.leaderboard, fmt))))
    for row in rows:
        per_fold = (row.get("selection") or {}).get("per_fold") or []
        if not per_fold:
            continue
        cells = tuple((str(f.get("fold")), ", ".join(str(i) for i in f.get("chosen_on") or []),
                       str(f.get("labels_seen")), members_text(f)) for f in per_fold)
        blocks.append(Table(("fold scored", "chosen on folds", "its rows seen", "members and weights"),
                            cells, collapsed=f"{row['algorithm']}: the members and weights of each fold"))
    return [Section("ensembles", "Ensembles", tuple(blocks))]


# --------------------------------------------------------------------------- learning curves


def _points(curve: dict) -> list[dict]:
    return sorted([p for p in curve.get("points") or [] if A.finite(p.get("mean"))],
                  key=lambda p: float(p["fraction"]))


def _percent(fraction: float) -> str:
    return f"{float(fraction) * 100:.4g}%"


def _name(curve: dict) -> str:
    return f"{curve.get('algorithm')} ({curve.get('view')})"


def paired_gain(high: dict, low: dict, document: dict) -> dict:
    """How much better ``high`` scores than ``low`` (two points of one curve, same folds):
    ``margin`` (positive: better), ``p_value`` (corrected resampled t-test) and ``real``."""
    from dlrun.evaluation.stats import corrected_resampled_ttest

    gib = bool(document.get("greater_is_better", True))
    margin = A.better_by(float(high["mean"]), float(low["mean"]), gib)
    p = corrected_resampled_ttest(_scores(high), _scores(low), _test_fraction(document))
    tested = not math.isnan(p)
    return {"margin": margin, "p_value": p if tested else None, "tested": tested,
            "real": tested and p < ALPHA}


def _scores(point: dict) -> list[float]:
    return [float(s) if A.finite(s) else math.nan for s in point.get("scores") or []]


def _test_fraction(document: dict) -> float:
    value = document.get("test_fraction")
    return float(value) if A.finite(value) and 0 < value < 1 else A.DEFAULT_TEST_FRACTION


def more_data_sentence(curve: dict, document: dict, fmt: A.Formatter) -> str | None:
    """Whether more data would still help ``curve``: its last step, from the second largest
    training size to the full one, by the paired corrected t-test."""
    points = _points(curve)
    if len(points) < 2:
        return None
    low, high = points[-2], points[-1]
    cmp = paired_gain(high, low, document)
    step = f"from {_percent(low['fraction'])} to {_percent(high['fraction'])} of the training rows"
    scores = f"{fmt(low['mean'])} -> {fmt(high['mean'])}, {fmt(cmp['margin'], signed=True)}"
    if not cmp["tested"]:
        return f"{_name(curve)}: {step} it went {scores} (too few folds to test)."
    p = fmt.p_is(cmp["p_value"])
    if cmp["real"] and cmp["margin"] > 0:
        return (f"{_name(curve)} is still learning: {step} it improved ({scores}, {p}), so more "
                "data would likely help it.")
    if cmp["margin"] > 0:
        return (f"{_name(curve)}: {step} it gained {fmt(cmp['margin'])} ({scores}), no significant "
                f"difference ({A.TTEST}, {p}): no evidence that more data of this kind would help "
                "it, though a test on these folds cannot rule it out.")
    return (f"{_name(curve)}: {step} it did not improve ({scores}; {A.TTEST}, {p}): no sign that more data "
            "of this kind would help it.")


def _kind_of_bar(curve: dict) -> str:
    name = str(curve.get("algorithm"))
    info = ALGORITHMS.get(name) if name in ALGORITHMS else None
    return "the trees" if info is not None and "monotone" in info.invariances else "the bar"


def net_versus_bar_sentence(document: dict, fmt: A.Formatter) -> str | None:
    """Whether the net gains more from data than the bar: their gains from the smallest to the
    largest training size, fold by fold, compared by the paired corrected t-test."""
    from dlrun.evaluation.stats import corrected_resampled_ttest

    curves = document.get("curves") or []
    net = A.first(curves, lambda c: c.get("role") == NET)
    bar = A.first(curves, lambda c: c.get("role") == BAR)
    if net is None or bar is None:
        return None
    net_points = {round(float(p["fraction"]), 6): p for p in _points(net)}
    bar_points = {round(float(p["fraction"]), 6): p for p in _points(bar)}
    shared = sorted(set(net_points) & set(bar_points))
    if len(shared) < 2:
        return None
    lo, hi = shared[0], shared[-1]
    sign = 1.0 if document.get("greater_is_better", True) else -1.0
    net_gain = [sign * (a - b) for a, b in zip(_scores(net_points[hi]), _scores(net_points[lo]), strict=False)]
    bar_gain = [sign * (a - b) for a, b in zip(_scores(bar_points[hi]), _scores(bar_points[lo]), strict=False)]
    mean_net = sign * (float(net_points[hi]["mean"]) - float(net_points[lo]["mean"]))
    mean_bar = sign * (float(bar_points[hi]["mean"]) - float(bar_points[lo]["mean"]))
    p = corrected_resampled_ttest(net_gain, bar_gain, _test_fraction(document))
    trees = _kind_of_bar(bar)
    span = f"from {_percent(lo)} to {_percent(hi)} of the training rows"
    gains = (f"the net, {_name(net)}, gained {fmt(mean_net, signed=True)} and {trees}, {_name(bar)}, "
             f"{fmt(mean_bar, signed=True)}")
    if math.isnan(p):
        return f"{span[0].upper()}{span[1:]} {gains} (too few folds to test the difference)."
    shown = fmt.p_is(p)
    if p < ALPHA and mean_net > mean_bar:
        verdict = (f"the net gains more from data than {trees} (a significant difference, "
                   f"{A.TTEST}, {shown})")
    elif p < ALPHA:
        verdict = (f"{trees} gain more from data than the net (a significant difference, "
                   f"{A.TTEST}, {shown})")
    else:
        verdict = (f"no significant difference between the two gains ({A.TTEST}, {shown}), which "
                   f"does not show that the net gains no more from data than {trees}")
    return f"{span[0].upper()}{span[1:]} {gains}: {verdict}."


def curve_sentences(document: dict, fmt: A.Formatter) -> list[str]:
    out = [s for c in document.get("curves") or [] if (s := more_data_sentence(c, document, fmt))]
    versus = net_versus_bar_sentence(document, fmt)
    if versus:
        out.append(versus)
    return out


def overall_sentence(document: dict, fmt: A.Formatter) -> str | None:
    """One verdict for the whole project: would more data still help the best of the curves?"""
    curves = [c for c in document.get("curves") or [] if len(_points(c)) >= 2]
    if not curves:
        return None
    gib = bool(document.get("greater_is_better", True))
    best = max(curves, key=lambda c: (1 if gib else -1) * float(_points(c)[-1]["mean"]))
    cmp = paired_gain(_points(best)[-1], _points(best)[-2], document)
    if cmp["real"] and cmp["margin"] > 0:
        return (f"More data would still help: the best of these candidates, {_name(best)}, was "
                f"still improving at the full training size ({fmt.p_is(cmp['p_value'])}).")
    if cmp["tested"]:
        return (f"No evidence that more data would help: the best of these candidates, {_name(best)}, "
                f"showed no significant gain over the last step to the full training size ({A.TTEST}, "
                f"{fmt.p_is(cmp['p_value'])}); better features or models may be the likelier gain.")
    return None


def learning_curve(ctx) -> list[Section]:
    from dlrun.report import plots

    document = ctx.leaderboard.get("learning_curve")
    if not isinstance(document, dict) or not document.get("curves"):
        return []
    fmt = ctx.fmt
    blocks: list[Any] = []
    overall = overall_sentence(document, fmt)
    if overall:
        blocks.append(Note(overall, tone="neutral"))
    png = plots.learning_curve_plot(document)
    if png:
        blocks.append(Figure("learning-curve", "Score against training-set size", png, text(
            "Mean score (band: ± one standard deviation over the folds) against the training rows "
            "a fold had; each point trains on a seeded, stratified, nested share of every training "
            "fold and is scored on the leaderboard's own test folds.")))
    blocks.append(Paragraph(" ".join(curve_sentences(document, fmt))))
    fractions = [float(f) for f in document.get("fractions") or []]
    rows = []
    for curve in document["curves"]:
        by_fraction = {round(float(p["fraction"]), 6): p for p in _points(curve)}
        cells = [_name(curve)]
        for f in fractions:
            p = by_fraction.get(round(f, 6))
            cells.append(f"{fmt(p['mean'])} ± {fmt(p.get('std'))}" if p else "n/a")
        rows.append(tuple(cells))
    blocks.append(Heading(f"{ctx.metric} by share of each training fold"))
    blocks.append(Table(("candidate", *[_percent(f) for f in fractions]), tuple(rows),
                        align=("left", *["right"] * len(fractions))))
    return [Section("learning-curve", "Learning curves", tuple(blocks))]


ENSEMBLES = ReportSection("ensembles", ensembles, 45)
LEARNING_CURVE = ReportSection("learning_curve", learning_curve, 55)
