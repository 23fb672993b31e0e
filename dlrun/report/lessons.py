"""Lessons learned: plain sentences, each computed from the leaderboard.

No sentence is canned and no algorithm or view is named here: the floor, the
bar and the nets are found by their catalogue role, scaling by the views'
traits and the algorithms' invariances, tuned rows and ensembles by the role a
row carries (:mod:`dlrun.report.analysis`). Every comparison is the
leaderboard's own test at its level (:data:`dlrun.evaluation.stats.ALPHA`),
and a sentence says only what that test supports: "a significant difference
(test, p)" or "no significant difference (test, p)" -- never "no difference",
never a cause inferred from a test that failed to find one. Exact ties (the same
score on every fold) are named as ties, never broken silently. Under the quick
protocol a first sentence says how weak its tests are. The sentences are plain
text; the renderers escape them. ``tests/test_report_lessons.py`` pins the
wording on crafted leaderboards.
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
    n_folds,
    names_with_role,
    rescales,
    same_scores,
    scaling_can_matter,
    scored_rows,
    significance,
    untuned_name,
    versus_best,
    views_of,
)


def derive_lessons(leaderboard: dict, fmt: Formatter | None = None) -> list[str]:
    """Lessons learned, as plain sentences."""
    fmt = fmt or Formatter(decimals_for(leaderboard))
    rows = scored_rows(leaderboard)
    if not rows:
        return ["No algorithm produced a score, so there is nothing to compare."]
    lessons: list[str] = []
    for lesson in (_protocol, _ties, _nets_and_bar, _scaling, _views, _floor, _tuning, _learning_curve,
                   _spread, _failures):
        lessons.extend(lesson(leaderboard, rows, fmt))
    return lessons


def _alpha() -> float:
    from dlrun.evaluation.stats import ALPHA

    return ALPHA


def _level() -> str:
    return f"the {100 * _alpha():g}% level"


def _protocol(leaderboard, rows, fmt) -> list[str]:
    """A quick protocol makes every test below weak: say so first."""
    options = leaderboard.get("options") or {}
    if not options.get("quick"):
        return []
    n = n_folds(rows[0])
    protocol = leaderboard.get("protocol") or {}
    shape = (f"{protocol['folds']} folds x {protocol['repeats']} repeat{'s' if protocol['repeats'] != 1 else ''}"
             if protocol.get("folds") and protocol.get("repeats") else "fewer folds than project.yaml asks")
    return [f"These scores come from the quick protocol ({shape}, {n} fold scores a candidate): a test "
            f"on {n} scores finds only large differences, so each \"no significant difference\" below is "
            "weak evidence that two candidates are alike. Run `dlrun evaluate` without --quick for "
            "project.yaml's full protocol before choosing a model."]


def _ties(leaderboard, rows, fmt) -> list[str]:
    """Exact ties with the best, then the algorithms the test cannot tell from the best."""
    best, per_algo = rows[0], best_per_algorithm(rows)
    metric = str(leaderboard.get("metric_label") or leaderboard.get("metric") or "score")
    out = []
    exact = [r for r in per_algo[1:] if same_scores(r, best)]
    if exact:
        out.append(f"{join_words([label(r) for r in exact])} scored exactly what the best, {label(best)}, "
                   f"scored on every fold ({fmt(best['mean'])}): an exact tie, which the leaderboard "
                   "orders by name, not by merit.")
    others = [r for r in per_algo[1:] if r not in exact]
    tied = [r for r in others if r.get("same_as_best")]
    if tied:
        cmps = [(r, versus_best(best, r, leaderboard)) for r in tied]
        names = [f"{label(r)} {fmt(r['mean'])} ({fmt.p_text(c)})" for r, c in cmps]
        test = cmps[0][1].get("test") or "the leaderboard's test"
        text = (
            f"{len(tied)} other algorithm{'s show' if len(tied) > 1 else ' shows'} no significant "
            f"difference from the best, {label(best)} {fmt(best['mean'])}, at {_level()} ({test}): "
            f"{join_words(names)}. The test cannot separate them on these fold scores (which is not "
            "proof that they are equal); pick among them on cost or simplicity, or evaluate with more "
            "folds."
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
        out.append(text)
    elif others:
        runner = others[0]
        cmp = versus_best(best, runner, leaderboard)
        untested = [r for r in others if not versus_best(best, r, leaderboard)["tested"]]
        head = ("Every other algorithm scored significantly below the best" if not untested else
                "No other algorithm was found alike to the best")
        out.append(f"{head}, {label(best)} {fmt(best['mean'])}: the runner-up, {label(runner)}, is "
                   f"{fmt(abs(cmp['margin']))} {metric} behind: {significance(cmp, fmt)}.")
    return out


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
    gap = fmt(abs(cmp["margin"]))
    if not cmp["tested"]:
        verdict = f"scored {gap} {'above' if cmp['margin'] > 0 else 'below'} {the_bar}"
    elif cmp["margin"] > 0 and cmp["real"]:
        verdict = f"beat {the_bar}, by {gap}"
    elif cmp["margin"] > 0:
        verdict = f"scored {gap} above {the_bar}, which does not show that it beats the bar"
    elif cmp["margin"] < 0:
        verdict = f"did not beat {the_bar}, scoring {gap} below it"
    else:
        verdict = f"scored exactly the mean of {the_bar}"
    cost = ""
    if finite(deep.get("fit_seconds")) and finite(bar.get("fit_seconds")) and float(bar["fit_seconds"]) > 0:
        ratio = float(deep["fit_seconds"]) / float(bar["fit_seconds"])
        cost = f" It cost {ratio:.1f}x the fit time of the bar."
    return [f"The best deep net, {label(deep)} {fmt(deep['mean'])}, {verdict}: {significance(cmp, fmt)}.{cost}"]


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
                f"on {plain['view']} ({fmt.p_is(cmp['p_value'])})")
        if cmp["real"] and cmp["margin"] > 0:
            helped.append(text)
        elif cmp["real"]:
            hurt.append(text)
        else:
            no_effect.append(text)
    test = "corrected resampled t-test"
    out = []
    if helped:
        out.append(f"Scaling the inputs helped significantly ({test}, {_level()}): {join_words(helped)}.")
    if no_effect:
        out.append(f"Scaling the inputs showed no significant difference ({test}, {_level()}) for "
                   f"{join_words(no_effect)}: the test did not confirm a gap on these fold scores, "
                   "which does not show that scaling makes no difference.")
    if hurt:
        out.append(f"Scaling the inputs hurt significantly ({test}, {_level()}): {join_words(hurt)}.")
    return out


def _views(leaderboard, rows, fmt) -> list[str]:
    """Which view gave each algorithm its highest mean (exact ties count for every tied view;
    algorithms that scored the same on every view are set apart; ensembles, made of several
    views, left out)."""
    rows = [r for r in rows if not is_ensemble(r) and not is_tuned(r)]
    views = {v for r in rows for v in views_of(r)}
    if len(views) < 2:
        return []
    wins: dict[str, int] = {}
    counted, indifferent = 0, []
    for top in best_per_algorithm(rows):
        mine = [r for r in rows if r["algorithm"] == top["algorithm"]]
        tried = {v for r in mine for v in views_of(r)}
        best = {v for r in mine if float(r["mean"]) == float(top["mean"]) for v in views_of(r)}
        if len(tried) < 2:
            continue
        if best == tried:
            indifferent.append(str(top["algorithm"]))
            continue
        counted += 1
        for view in best:
            wins[view] = wins.get(view, 0) + 1
    out = []
    if counted >= 2:
        top_count = max(wins.values())
        leaders = sorted(v for v, c in wins.items() if c == top_count)
        quoted = join_words([repr(v) for v in leaders])
        text = (f"By mean score, {quoted} {'was' if len(leaders) == 1 else 'were each'} the best view "
                f"for {top_count} of the {counted} algorithms whose score changed with the view "
                "(a view tied exactly with another is counted for both; the scaling lesson says which "
                "gaps are significant).")
        never = sorted(views - set(wins))
        if never:
            text += (f" {join_words([repr(v) for v in never])} never gave one of them its highest mean.")
        out.append(text)
    if indifferent:
        out.append(f"{join_words(indifferent)} scored exactly the same on every view "
                   f"{'it was' if len(indifferent) == 1 else 'they were'} ranked on: the view made no "
                   "difference to "
                   f"{'it' if len(indifferent) == 1 else 'them'} (a model that ignores its inputs or is "
                   "unchanged by rescaling).")
    return out


def _floor(leaderboard, rows, fmt) -> list[str]:
    """Algorithms that did not beat the naive floor, and whether the others did so significantly."""
    baseline = first(rows, has_role(BASELINE))
    if not baseline:
        return []
    gib = bool(leaderboard.get("greater_is_better", True))
    per_algo = [r for r in best_per_algorithm(rows) if r["algorithm"] != baseline["algorithm"]]
    if not per_algo:
        return []
    floor = f"the naive baseline ({fmt(baseline['mean'])})"
    losers = [r for r in per_algo if better_by(float(r["mean"]), float(baseline["mean"]), gib) <= 0]
    above = [(r, compare(r, baseline, leaderboard)) for r in per_algo if r not in losers]
    real = [r for r, c in above if c["real"]]
    unsure = [(r, c) for r, c in above if not c["real"]]
    out = []
    if losers:
        out.append(f"{join_words([label(r) for r in losers])} did not beat {floor} on the mean: "
                   f"{'it' if len(losers) == 1 else 'they'} did no better here than a model that ignores "
                   "the inputs.")
    if real:
        worst = max((c["p_value"] for r, c in above if c["real"]), default=None)
        who = "Every algorithm" if len(real) == len(per_algo) else f"{len(real)} of {len(per_algo)} algorithms"
        out.append(f"{who} beat {floor} significantly (corrected resampled t-test, largest "
                   f"{fmt.p_is(worst)}): the inputs carry signal that {'they' if len(real) > 1 else 'it'} "
                   "can use.")
    if unsure:
        listed = [f"{label(r)} {fmt(r['mean'])} ({fmt.p_text(c)})" for r, c in unsure]
        out.append(f"{join_words(listed)} "
                   f"scored above {floor} with no significant difference from it ({_level()}).")
    return out


def _tuning(leaderboard, rows, fmt) -> list[str]:
    """What tuning and ensembles gained (rows whose role says they are tuned or ensembles)."""
    out = []
    for tuned in [r for r in best_per_algorithm(rows) if is_tuned(r)]:
        plain = first(rows, lambda r, t=tuned: not is_tuned(r) and r["algorithm"] == untuned_name(t))
        if not plain:
            continue
        cmp = compare(tuned, plain, leaderboard)
        how = "raised" if cmp["margin"] > 0 else "did not raise"
        out.append(f"Tuning {how} {plain['algorithm']}'s mean: {fmt(plain['mean'])} -> {fmt(tuned['mean'])} "
                   f"({fmt(cmp['margin'], signed=True)}): {significance(cmp, fmt)}.")
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
        word = "scored above" if cmp["margin"] > 0 else "did not score above"
        name = str(ensemble.get("algorithm"))
        what = "The ensemble" if name == "ensemble" else f"The {name} ensemble"
        out.append(f"{what} ({fmt(ensemble['mean'])}) {word} the best single model, "
                   f"{label(single)} {fmt(single['mean'])} ({fmt(cmp['margin'], signed=True)}): "
                   f"{significance(cmp, fmt)}. Its members and weights were chosen without the labels "
                   "of the folds it was scored on.")
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
