"""Read a leaderboard and say what it means: headline numbers and lessons learned.

Everything here is derived from the leaderboard dict (the ``dlrun evaluate
--json`` document); no sentence is canned. Lessons are plain text: the
templates escape them for HTML and Markdown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

# Algorithms whose results depend on the scale of the inputs.
SCALE_SENSITIVE = ("knn", "svm", "mlp")
# Views that change the scale of the inputs (compared against "raw").
SCALING_VIEWS = ("standardize", "normalize", "power")
# Deep nets, when the catalogue cannot tell (it says family == "deep").
DEEP_NAMES = frozenset(
    {"mlp", "cnn", "lstm", "cnn1d", "cnn_lstm", "text_mlp", "text_cnn", "text_lstm"}
)
BASELINE = "baseline"
BAR = "xgboost"
SIGNIFICANCE = 0.05


def base_name(algorithm: str) -> str:
    """``xgboost+tuned`` -> ``xgboost``."""
    return str(algorithm).split("+", 1)[0]


def is_deep(algorithm: str) -> bool:
    name = base_name(algorithm)
    try:
        from dlrun.catalogue import ALGORITHMS

        if name in ALGORITHMS:
            return ALGORITHMS.get(name).family == "deep"
    except Exception:  # the catalogue is optional here; fall back to the known names
        pass
    return name in DEEP_NAMES


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def ordered_rows(leaderboard: dict) -> list[dict]:
    """The rows best first (the leaderboard's order), rows without a finite mean last."""
    rows = [r for r in leaderboard.get("rows") or [] if isinstance(r, dict)]
    return [r for r in rows if finite(r.get("mean"))] + [
        r for r in rows if not finite(r.get("mean"))
    ]


def best_per_algorithm(rows: Iterable[dict]) -> list[dict]:
    """The first (best) row of each algorithm, keeping the order."""
    seen: set[str] = set()
    out = []
    for row in rows:
        name = str(row.get("algorithm"))
        if name not in seen:
            seen.add(name)
            out.append(row)
    return out


def first(rows: Iterable[dict], predicate) -> dict | None:
    return next((r for r in rows if predicate(r)), None)


def better_by(a: float, b: float, greater_is_better: bool) -> float:
    """How much better ``a`` is than ``b`` (negative when worse)."""
    return (a - b) if greater_is_better else (b - a)


def test_train_ratio(protocol: dict | None) -> float | None:
    """n_test / n_train of one fit under k-fold (1 / (k - 1)); None when not k-fold."""
    folds = (protocol or {}).get("folds")
    if isinstance(folds, int) and folds >= 2:
        return 1.0 / (folds - 1)
    return None


def corrected_ttest(a: list[float], b: list[float], ratio: float | None) -> float | None:
    """Two-sided p-value of the Nadeau-Bengio corrected resampled t-test on paired scores.

    ``None`` when the scores are not paired (different lengths) or too few.
    Without a k-fold ratio the plain paired t-test is used.
    """
    if not a or not b or len(a) != len(b) or len(a) < 2:
        return None
    diffs = [x - y for x, y in zip(a, b, strict=True) if finite(x) and finite(y)]
    n = len(diffs)
    if n < 2:
        return None
    mean = sum(diffs) / n
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1)
    if var <= 0:
        return 1.0 if mean == 0 else 0.0
    denom = math.sqrt((1.0 / n + (ratio or 0.0)) * var)
    t = abs(mean) / denom
    from scipy.special import stdtr  # the t CDF; far lighter to import than scipy.stats

    return float(min(1.0, 2.0 * stdtr(n - 1, -t)))


def compare(a: dict, b: dict, leaderboard: dict) -> dict:
    """How row ``a`` compares with row ``b``: difference (positive = a better), p-value, real?"""
    gib = bool(leaderboard.get("greater_is_better", True))
    diff = better_by(float(a["mean"]), float(b["mean"]), gib)
    p = corrected_ttest(
        list(a.get("scores") or []),
        list(b.get("scores") or []),
        test_train_ratio(leaderboard.get("protocol")),
    )
    if p is not None:
        real = p < SIGNIFICANCE
    else:  # unpaired fallback: two standard errors
        se = math.sqrt(
            sum(
                (float(r.get("std") or 0.0) ** 2)
                / max(1, int(r.get("n_folds") or len(r.get("scores") or []) or 1))
                for r in (a, b)
            )
        )
        real = abs(diff) > 2 * se if se > 0 else diff != 0
    return {"diff": diff, "p_value": p, "real": real}


def compare_with_best(best: dict, row: dict, leaderboard: dict) -> dict:
    """Like :func:`compare`, but trusts the leaderboard's own verdict on ``row`` against
    the best row (``p_value``, ``same_as_best``) so the report never contradicts it."""
    cmp = compare(best, row, leaderboard)
    if finite(row.get("p_value")):
        cmp["p_value"] = float(row["p_value"])
    if isinstance(row.get("same_as_best"), bool):
        cmp["real"] = not row["same_as_best"]
    return cmp


def decimals_for(leaderboard: dict) -> int:
    """Decimals that show the leaderboard's scores at a sensible precision."""
    values = [abs(float(r["mean"])) for r in ordered_rows(leaderboard) if finite(r.get("mean"))]
    scale = max(values) if values else 1.0
    if scale == 0:
        return 3
    return int(min(6, max(0, 2 - math.floor(math.log10(scale)))))


class Formatter:
    """Formats scores at the leaderboard's precision."""

    def __init__(self, decimals: int):
        self.decimals = decimals

    def __call__(self, value: Any, signed: bool = False) -> str:
        if not finite(value):
            return "n/a"
        text = f"{float(value):{'+' if signed else ''}.{self.decimals}f}"
        return text

    def seconds(self, value: Any) -> str:
        if not finite(value):
            return "n/a"
        value = float(value)
        if value < 0.01:
            return "<0.01"
        if value < 10:
            return f"{value:.2f}"
        return f"{value:.1f}" if value < 100 else f"{value:.0f}"

    def p(self, value: Any) -> str:
        if not finite(value):
            return "n/a"
        return "<0.001" if value < 0.001 else f"{value:.3f}"


def label(row: dict) -> str:
    return f"{row.get('algorithm')} ({row.get('view')})"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _pvalue_text(cmp: dict, fmt: Formatter) -> str:
    return f"p = {fmt.p(cmp['p_value'])}" if cmp["p_value"] is not None else "unpaired estimate"


def summarize(leaderboard: dict) -> dict:
    """The headline rows and margins: best, baseline (floor), xgboost (bar), best deep net."""
    rows = ordered_rows(leaderboard)
    scored = [r for r in rows if finite(r.get("mean"))]
    best = scored[0] if scored else None
    baseline = first(scored, lambda r: r.get("algorithm") == BASELINE)
    bar = first(scored, lambda r: base_name(r.get("algorithm")) == BAR)
    deep = first(scored, lambda r: is_deep(r.get("algorithm")))
    out: dict[str, Any] = {"best": best, "baseline": baseline, "bar": bar, "deep": deep}
    if best and baseline:
        out["vs_baseline"] = compare_with_best(best, baseline, leaderboard)
        base = float(baseline["mean"])
        out["vs_baseline"]["relative"] = (
            out["vs_baseline"]["diff"] / abs(base) if base not in (0.0,) else None
        )
    if best and bar and bar is not best:
        out["vs_bar"] = compare_with_best(best, bar, leaderboard)
    return out


def derive_lessons(leaderboard: dict, fmt: Formatter | None = None) -> list[str]:
    """Lessons learned, as plain sentences, each computed from the leaderboard."""
    fmt = fmt or Formatter(decimals_for(leaderboard))
    gib = bool(leaderboard.get("greater_is_better", True))
    metric = str(leaderboard.get("metric_label") or leaderboard.get("metric") or "score")
    rows = [r for r in ordered_rows(leaderboard) if finite(r.get("mean"))]
    lessons: list[str] = []
    if not rows:
        return ["No algorithm produced a score, so there is nothing to compare."]
    best = rows[0]
    per_algo = best_per_algorithm(rows)

    # 1. Which algorithms are statistically tied with the best.
    tied = [r for r in per_algo[1:] if r.get("same_as_best")]
    if tied:
        names = [f"{label(r)} {fmt(r['mean'])}" for r in tied]
        text = (
            f"{len(tied)} other algorithm{'s are' if len(tied) > 1 else ' is'} within noise of the "
            f"best, {label(best)} {fmt(best['mean'])}: {_join(names)}. "
            "The leaderboard cannot separate them; pick among them on cost or simplicity."
        )
        contenders = [best, *tied]
        timed = [r for r in contenders if finite(r.get("fit_seconds"))]
        if len(timed) > 1:
            cheapest = min(timed, key=lambda r: float(r["fit_seconds"]))
            if cheapest is not best and finite(best.get("fit_seconds")):
                text += (
                    f" The cheapest of them is {label(cheapest)}, which fits in "
                    f"{fmt.seconds(cheapest['fit_seconds'])} s against "
                    f"{fmt.seconds(best['fit_seconds'])} s for the winner."
                )
        lessons.append(text)
    elif len(per_algo) > 1:
        runner = per_algo[1]
        cmp = compare_with_best(best, runner, leaderboard)
        lessons.append(
            f"No other algorithm is within noise of {label(best)}: the runner-up, {label(runner)}, "
            f"is {fmt(abs(cmp['diff']))} {metric} behind ({_pvalue_text(cmp, fmt)})."
        )

    # 2. Did the deep net beat XGBoost (the bar)?
    bar = first(rows, lambda r: base_name(r.get("algorithm")) == BAR)
    deep = first(rows, lambda r: is_deep(r.get("algorithm")))
    if bar and deep:
        cmp = compare(deep, bar, leaderboard)
        if cmp["diff"] > 0 and cmp["real"]:
            verdict = f"beat XGBoost, {label(bar)} {fmt(bar['mean'])}, by {fmt(cmp['diff'])} and the difference is real"
        elif cmp["diff"] > 0:
            verdict = (
                f"scored {fmt(cmp['diff'])} better than XGBoost, {label(bar)} {fmt(bar['mean'])}, "
                "but the difference is within noise"
            )
        elif cmp["real"]:
            verdict = (
                f"did not beat XGBoost: {label(bar)} {fmt(bar['mean'])} is {fmt(-cmp['diff'])} better "
                "and the gap is real"
            )
        else:
            verdict = (
                f"did not beat XGBoost, {label(bar)} {fmt(bar['mean'])}; the {fmt(-cmp['diff'])} gap "
                "is within noise"
            )
        cost = ""
        if (
            finite(deep.get("fit_seconds"))
            and finite(bar.get("fit_seconds"))
            and float(bar["fit_seconds"]) > 0
        ):
            ratio = float(deep["fit_seconds"]) / float(bar["fit_seconds"])
            cost = f" It cost {ratio:.1f}x the fit time of XGBoost."
        lessons.append(
            f"The best deep net, {label(deep)} {fmt(deep['mean'])}, {verdict} ({_pvalue_text(cmp, fmt)}).{cost}"
        )
    elif bar and not deep:
        lessons.append("No deep net was evaluated, so XGBoost's bar was not challenged by one.")

    # 3. Did scaling matter for the scale-sensitive algorithms?
    helped, no_effect, hurt = [], [], []
    for algo in SCALE_SENSITIVE:
        raw = first(rows, lambda r, a=algo: r.get("algorithm") == a and r.get("view") == "raw")
        scaled = first(
            rows, lambda r, a=algo: r.get("algorithm") == a and r.get("view") in SCALING_VIEWS
        )
        if not raw or not scaled:
            continue
        cmp = compare(scaled, raw, leaderboard)
        text = f"{algo} {fmt(scaled['mean'])} on {scaled['view']} vs {fmt(raw['mean'])} raw"
        if cmp["real"] and cmp["diff"] > 0:
            helped.append(text)
        elif cmp["real"]:
            hurt.append(text)
        else:
            no_effect.append(text)
    if helped:
        lessons.append(f"Scaling the inputs mattered for {_join(helped)}.")
    if no_effect:
        lessons.append(
            f"Scaling made no real difference for {_join(no_effect)} (within noise)"
            + (", so the inputs were already on comparable scales." if not helped else ".")
        )
    if hurt:
        lessons.append(f"Scaling hurt {_join(hurt)}.")

    # 4. Which view won most often.
    views = {str(r.get("view")) for r in rows}
    if len(views) > 1 and len(per_algo) > 1:
        wins: dict[str, int] = {}
        for r in per_algo:
            wins[str(r.get("view"))] = wins.get(str(r.get("view")), 0) + 1
        top_view, count = max(wins.items(), key=lambda kv: kv[1])
        never = sorted(views - set(wins))
        text = f"'{top_view}' was the best view for {count} of {len(per_algo)} algorithms."
        if never:
            text += f" {_join([repr(v) for v in never])} never gave an algorithm its best score."
        lessons.append(text)

    # 5. Algorithms that did not beat the naive floor.
    baseline = first(rows, lambda r: r.get("algorithm") == BASELINE)
    if baseline:
        losers = [
            r
            for r in per_algo
            if r.get("algorithm") != BASELINE
            and better_by(float(r["mean"]), float(baseline["mean"]), gib) <= 0
        ]
        if losers:
            lessons.append(
                f"{_join([label(r) for r in losers])} did not beat the naive baseline "
                f"({fmt(baseline['mean'])}): they learned nothing useful here."
            )
        elif len(per_algo) > 1:
            lessons.append(
                f"Every algorithm beat the naive baseline ({fmt(baseline['mean'])}), "
                "so the data carries signal all of them can use."
            )

    # 6. Tuning and ensembles.
    for tuned in [r for r in per_algo if str(r.get("algorithm")).endswith("+tuned")]:
        plain = first(rows, lambda r, t=tuned: r.get("algorithm") == base_name(t["algorithm"]))
        if plain:
            cmp = compare(tuned, plain, leaderboard)
            how = "improved" if cmp["diff"] > 0 else "did not improve"
            real = (
                "a real gain"
                if cmp["real"] and cmp["diff"] > 0
                else "within noise"
                if not cmp["real"]
                else "a real loss"
            )
            lessons.append(
                f"Tuning {how} {plain['algorithm']}: {fmt(plain['mean'])} -> {fmt(tuned['mean'])} "
                f"({fmt(cmp['diff'], signed=True)}, {real})."
            )
    ensemble = first(rows, lambda r: base_name(r.get("algorithm")) == "ensemble")
    single = first(rows, lambda r: base_name(r.get("algorithm")) != "ensemble")
    if ensemble and single:
        cmp = compare(ensemble, single, leaderboard)
        word = "beat" if cmp["diff"] > 0 else "did not beat"
        lessons.append(
            f"The ensemble ({fmt(ensemble['mean'])}) {word} the best single model, "
            f"{label(single)} {fmt(single['mean'])} ({fmt(cmp['diff'], signed=True)}, "
            f"{'real' if cmp['real'] else 'within noise'})."
        )

    # 7. Spread: an unstable winner is a warning.
    if (
        finite(best.get("std"))
        and best["mean"]
        and abs(float(best["std"]) / float(best["mean"])) > 0.1
    ):
        lessons.append(
            f"The winner's scores vary a lot from fold to fold (std {fmt(best['std'])} on a mean of "
            f"{fmt(best['mean'])}): expect that spread on new data too."
        )

    # 8. Failures.
    failures = [f for f in leaderboard.get("failures") or [] if isinstance(f, dict)]
    if failures:
        pairs = [f"{f.get('algorithm')} on {f.get('view')}" for f in failures[:5]]
        more = f" and {len(failures) - 5} more" if len(failures) > 5 else ""
        lessons.append(
            f"{len(failures)} algorithm/view pair{'s' if len(failures) > 1 else ''} failed and "
            f"{'are' if len(failures) > 1 else 'is'} missing from the leaderboard: {', '.join(pairs)}{more} "
            "(errors listed below)."
        )
    return lessons
