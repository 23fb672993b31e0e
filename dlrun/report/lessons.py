"""Lessons learned: plain sentences, each computed from the leaderboard.

No sentence is canned and no algorithm or view is named here: the floor, the
bar and the nets are found by their catalogue role, scaling by the views'
traits and the algorithms' invariances, tuned rows and ensembles by the role a
row carries (:mod:`dlrun.report.analysis`). Every "within noise" is the
leaderboard's own t-test. The sentences are plain text; the renderers escape
them.
"""

from __future__ import annotations

from dlrun.catalogue import BAR, BASELINE, NET
from dlrun.report.analysis import (
    Formatter,
    best_per_algorithm,
    better_by,
    compare,
    decimals_for,
    finite,
    first,
    has_role,
    is_ensemble,
    is_tuned,
    join_words,
    label,
    names_with_role,
    rescales,
    scaling_can_matter,
    scored_rows,
    untuned_name,
    versus_best,
)


def derive_lessons(leaderboard: dict, fmt: Formatter | None = None) -> list[str]:
    """Lessons learned, as plain sentences."""
    fmt = fmt or Formatter(decimals_for(leaderboard))
    rows = scored_rows(leaderboard)
    if not rows:
        return ["No algorithm produced a score, so there is nothing to compare."]
    lessons: list[str] = []
    for lesson in (_ties, _nets_and_bar, _scaling, _views, _floor, _tuning, _learning_curve, _spread,
                   _failures):
        lessons.extend(lesson(leaderboard, rows, fmt))
    return lessons


def _ties(leaderboard, rows, fmt) -> list[str]:
    """Which algorithms are statistically tied with the best."""
    best, per_algo = rows[0], best_per_algorithm(rows)
    metric = str(leaderboard.get("metric_label") or leaderboard.get("metric") or "score")
    tied = [r for r in per_algo[1:] if r.get("same_as_best")]
    if tied:
        names = [f"{label(r)} {fmt(r['mean'])}" for r in tied]
        text = (
            f"{len(tied)} other algorithm{'s are' if len(tied) > 1 else ' is'} within noise of the "
            f"best, {label(best)} {fmt(best['mean'])}: {join_words(names)}. "
            "The leaderboard cannot separate them; pick among them on cost or simplicity."
        )
        timed = [r for r in (best, *tied) if finite(r.get("fit_seconds"))]
        if len(timed) > 1:
            cheapest = min(timed, key=lambda r: float(r["fit_seconds"]))
            if cheapest is not best and finite(best.get("fit_seconds")):
                text += (
                    f" The cheapest of them is {label(cheapest)}, which fits in "
                    f"{fmt.seconds(cheapest['fit_seconds'])} s against "
                    f"{fmt.seconds(best['fit_seconds'])} s for the winner."
                )
        return [text]
    if len(per_algo) > 1:
        runner = per_algo[1]
        cmp = versus_best(best, runner, leaderboard)
        return [
            f"No other algorithm is within noise of {label(best)}: the runner-up, {label(runner)}, "
            f"is {fmt(abs(cmp['margin']))} {metric} behind ({fmt.p_text(cmp)})."
        ]
    return []


def _nets_and_bar(leaderboard, rows, fmt) -> list[str]:
    """Did the best net clear the bar?"""
    bar, deep = first(rows, has_role(BAR)), first(rows, has_role(NET))
    if bar and not deep:
        return [f"No deep net was evaluated, so the bar, {label(bar)} {fmt(bar['mean'])}, was not "
                "challenged by one."]
    if not (bar and deep):
        return []
    cmp = compare(deep, bar, leaderboard)
    the_bar = f"the bar, {label(bar)} {fmt(bar['mean'])}"
    if not cmp["tested"]:
        verdict = (f"scored {fmt(abs(cmp['margin']))} {'better' if cmp['margin'] > 0 else 'worse'} "
                   f"than {the_bar}")
    elif cmp["margin"] > 0 and cmp["real"]:
        verdict = f"beat {the_bar}, by {fmt(cmp['margin'])} and the difference is real"
    elif cmp["margin"] > 0:
        verdict = f"scored {fmt(cmp['margin'])} better than {the_bar}, but the difference is within noise"
    elif cmp["real"]:
        verdict = f"did not beat {the_bar}: the bar is {fmt(-cmp['margin'])} better and the gap is real"
    else:
        verdict = f"did not beat {the_bar}; the {fmt(-cmp['margin'])} gap is within noise"
    cost = ""
    if finite(deep.get("fit_seconds")) and finite(bar.get("fit_seconds")) and float(bar["fit_seconds"]) > 0:
        ratio = float(deep["fit_seconds"]) / float(bar["fit_seconds"])
        cost = f" It cost {ratio:.1f}x the fit time of the bar."
    return [f"The best deep net, {label(deep)} {fmt(deep['mean'])}, {verdict} ({fmt.p_text(cmp)}).{cost}"]


def _scaling(leaderboard, rows, fmt) -> list[str]:
    """Did rescaling the inputs matter to the algorithms it can matter to?"""
    helped, no_effect, hurt = [], [], []
    for top in best_per_algorithm(rows):
        algorithm = top["algorithm"]
        mine = [r for r in rows if r["algorithm"] == algorithm]
        plain = first(mine, lambda r: rescales(r.get("view")) is False)
        scaled = first(mine, lambda r, a=algorithm: rescales(r.get("view")) is True
                       and scaling_can_matter(a, r.get("view")))
        if not plain or not scaled:
            continue
        cmp = compare(scaled, plain, leaderboard)
        if not cmp["tested"]:
            continue
        text = (f"{algorithm} {fmt(scaled['mean'])} on {scaled['view']} vs {fmt(plain['mean'])} "
                f"on {plain['view']}")
        if cmp["real"] and cmp["margin"] > 0:
            helped.append(text)
        elif cmp["real"]:
            hurt.append(text)
        else:
            no_effect.append(text)
    out = []
    if helped:
        out.append(f"Scaling the inputs mattered for {join_words(helped)}.")
    if no_effect:
        out.append(f"Scaling made no real difference for {join_words(no_effect)} (within noise)"
                   + (", so the inputs were already on comparable scales." if not helped else "."))
    if hurt:
        out.append(f"Scaling hurt {join_words(hurt)}.")
    return out


def _views(leaderboard, rows, fmt) -> list[str]:
    """Which view won most often (ensembles, made of several views, left out)."""
    per_algo = [r for r in best_per_algorithm(rows) if not is_ensemble(r)]
    rows = [r for r in rows if not is_ensemble(r)]
    views = {str(r.get("view")) for r in rows}
    if len(views) < 2 or len(per_algo) < 2:
        return []
    wins: dict[str, int] = {}
    for r in per_algo:
        wins[str(r.get("view"))] = wins.get(str(r.get("view")), 0) + 1
    top_view, count = max(wins.items(), key=lambda kv: kv[1])
    text = f"'{top_view}' was the best view for {count} of {len(per_algo)} algorithms."
    never = sorted(views - set(wins))
    if never:
        text += f" {join_words([repr(v) for v in never])} never gave an algorithm its best score."
    return [text]


def _floor(leaderboard, rows, fmt) -> list[str]:
    """Algorithms that did not beat the naive floor."""
    baseline = first(rows, has_role(BASELINE))
    if not baseline:
        return []
    gib = bool(leaderboard.get("greater_is_better", True))
    per_algo = best_per_algorithm(rows)
    losers = [r for r in per_algo if r["algorithm"] != baseline["algorithm"]
              and better_by(float(r["mean"]), float(baseline["mean"]), gib) <= 0]
    if losers:
        return [f"{join_words([label(r) for r in losers])} did not beat the naive baseline "
                f"({fmt(baseline['mean'])}): they learned nothing useful here."]
    if len(per_algo) > 1:
        return [f"Every algorithm beat the naive baseline ({fmt(baseline['mean'])}), "
                "so the data carries signal all of them can use."]
    return []


def _tuning(leaderboard, rows, fmt) -> list[str]:
    """What tuning and ensembles gained (rows whose role says they are tuned or ensembles)."""
    out = []
    for tuned in [r for r in best_per_algorithm(rows) if is_tuned(r)]:
        plain = first(rows, lambda r, t=tuned: not is_tuned(r) and r["algorithm"] == untuned_name(t))
        if not plain:
            continue
        cmp = compare(tuned, plain, leaderboard)
        how = "improved" if cmp["margin"] > 0 else "did not improve"
        verdict = ("a real gain" if cmp["real"] and cmp["margin"] > 0
                   else "a real loss" if cmp["real"] else "within noise" if cmp["tested"]
                   else "not tested")
        out.append(f"Tuning {how} {plain['algorithm']}: {fmt(plain['mean'])} -> {fmt(tuned['mean'])} "
                   f"({fmt(cmp['margin'], signed=True)}, {verdict}).")
        searched = tuned.get("tuning_score")
        if finite(searched):
            gib = bool(leaderboard.get("greater_is_better", True))
            optimism = (float(searched) - float(tuned["mean"])) * (1 if gib else -1)
            out.append(
                f"The search scored {tuned['algorithm']}'s parameters {fmt(searched)} on the folds "
                f"that chose them, best of {tuned.get('trials', 'its')} trials; re-scored on a fresh "
                f"resampling they reach {fmt(tuned['mean'])}: selecting the best trial had "
                + (f"inflated the score by {fmt(optimism)}." if optimism > 0 else
                   "not inflated the score (the fresh resampling scored as well or better)."))
    single = first(rows, lambda r: not is_ensemble(r) and not is_tuned(r))
    for ensemble in [r for r in rows if is_ensemble(r)] if single else []:
        cmp = compare(ensemble, single, leaderboard)
        word = "beat" if cmp["margin"] > 0 else "did not beat"
        name = str(ensemble.get("algorithm"))
        what = "The ensemble" if name == "ensemble" else f"The {name} ensemble"
        out.append(f"{what} ({fmt(ensemble['mean'])}) {word} the best single model, "
                   f"{label(single)} {fmt(single['mean'])} ({fmt(cmp['margin'], signed=True)}, "
                   f"{'real' if cmp['real'] else 'within noise' if cmp['tested'] else 'not tested'}; "
                   "its members and weights were chosen without the labels of the folds it was "
                   "scored on).")
    return out


def _learning_curve(leaderboard, rows, fmt) -> list[str]:
    """Would more data help, and does the net gain more from it than the bar?"""
    from dlrun.report.improve import net_versus_bar_sentence, overall_sentence

    document = leaderboard.get("learning_curve")
    if not isinstance(document, dict) or not document.get("curves"):
        return []
    return [s for s in (overall_sentence(document, fmt), net_versus_bar_sentence(document, fmt)) if s]


def _spread(leaderboard, rows, fmt) -> list[str]:
    """An unstable winner is a warning."""
    best = rows[0]
    if finite(best.get("std")) and best["mean"] and abs(float(best["std"]) / float(best["mean"])) > 0.1:
        return [f"The winner's scores vary a lot from fold to fold (std {fmt(best['std'])} on a mean "
                f"of {fmt(best['mean'])}): expect that spread on new data too."]
    return []


def _failures(leaderboard, rows, fmt) -> list[str]:
    failures = [f for f in leaderboard.get("failures") or [] if isinstance(f, dict)]
    if not failures:
        return []
    pairs = [f"{f.get('algorithm')} on {f.get('view')}" for f in failures[:5]]
    more = f" and {len(failures) - 5} more" if len(failures) > 5 else ""
    many = len(failures) > 1
    return [f"{len(failures)} algorithm/view pair{'s' if many else ''} failed and "
            f"{'are' if many else 'is'} missing from the leaderboard: {', '.join(pairs)}{more} "
            "(errors listed below)."]


def bar_names() -> str:
    """The catalogued algorithms that set the bar, for sentences about a missing bar."""
    return join_words(names_with_role(BAR)) or "no catalogued algorithm"
