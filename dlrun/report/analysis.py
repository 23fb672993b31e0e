"""What the report reads in a leaderboard: ordered rows, roles, comparisons, number formats.

Roles come from the catalogue, never from names: the naive floor, the bar and
the nets are the rows whose algorithm has that ``role``
(:func:`dlrun.catalogue.role_of`, or the ``role`` the leaderboard row carries);
tuned rows and ensembles are rows whose ``role`` says so. Whether scaling can
matter to an algorithm comes from its ``invariances`` and the views' ``traits``.

Every p-value comes from :mod:`dlrun.evaluation.stats`, with the leaderboard's
own test fraction: the report repeats the leaderboard's test and can never
disagree with it. Against the best row the leaderboard's own ``p_value`` and
``same_as_best`` are used as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from dlrun.catalogue import ALGORITHMS, BAR, BASELINE, MODEL, NAIVE, NET, VIEWS, role_of

#: Roles a leaderboard row may carry beyond the catalogue's (set by tuning and ensembles).
TUNED, ENSEMBLE = "tuned", "ensemble"
CATALOGUE_ROLES = (BASELINE, NAIVE, BAR, NET, MODEL)
#: Used when a leaderboard says nothing of its folds (the runner's own default).
DEFAULT_TEST_FRACTION = 0.1


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------- rows and roles


def ordered_rows(leaderboard: dict) -> list[dict]:
    """The rows best first (the leaderboard's order), rows without a finite mean last."""
    rows = [r for r in leaderboard.get("rows") or [] if isinstance(r, dict)]
    return [r for r in rows if finite(r.get("mean"))] + [r for r in rows if not finite(r.get("mean"))]


def scored_rows(leaderboard: dict) -> list[dict]:
    return [r for r in ordered_rows(leaderboard) if finite(r.get("mean"))]


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


def first(rows: Iterable[dict], predicate: Callable[[dict], bool]) -> dict | None:
    return next((r for r in rows if predicate(r)), None)


def role(row: dict) -> str:
    """The catalogue role of a row: the one it carries, else its algorithm's."""
    carried = row.get("role")
    return carried if carried in CATALOGUE_ROLES else role_of(str(row.get("algorithm")))


def has_role(wanted: str) -> Callable[[dict], bool]:
    return lambda row: role(row) == wanted


def is_tuned(row: dict) -> bool:
    return row.get("role") == TUNED or row.get("tuned") is True


def is_ensemble(row: dict) -> bool:
    return row.get("role") == ENSEMBLE


def untuned_name(row: dict) -> str:
    """The leaderboard name of the plain algorithm behind a tuned row (``base`` when it
    carries one)."""
    return str(row.get("base") or str(row.get("algorithm")).split("+", 1)[0])


def names_with_role(wanted: str) -> list[str]:
    """The catalogued algorithms of a role (e.g. which algorithm sets the bar)."""
    return [name for name, info in ALGORITHMS.items() if info.role == wanted]


def rescales(view: str) -> bool | None:
    """Whether a view changes the scale of the numbers (its ``rescales`` trait); None if unknown."""
    if view not in VIEWS:
        return None
    value = VIEWS.get(view).traits.get("rescales")
    return None if value is None else bool(value)


def scaling_can_matter(algorithm: str, view: str) -> bool:
    """Whether the fit of ``algorithm`` may change when ``view`` rescales its inputs: not when
    it ignores its inputs, nor when it is invariant to a transform the view is (a tree to any
    order-keeping transform)."""
    name = str(algorithm).split("+", 1)[0]
    if name not in ALGORITHMS or view not in VIEWS:
        return False
    invariances = ALGORITHMS.get(name).invariances
    traits = VIEWS.get(view).traits
    return "inputs" not in invariances and not any(traits.get(i) is True for i in invariances)


def label(row: dict) -> str:
    return f"{row.get('algorithm')} ({row.get('view')})"


def views_of(row: dict) -> list[str]:
    """Every view a row stands for: its own, those it was fitted once for (``views``) and those
    that tied it exactly on every fold (``tied_views``), in that order, each once."""
    out: list[str] = []
    for view in [row.get("view"), *(row.get("views") or []), *(row.get("tied_views") or [])]:
        if view is not None and str(view) not in out:
            out.append(str(view))
    return out


def view_text(row: dict) -> str:
    """``raw`` or, for a row standing for several views, ``raw = standardize = normalize``."""
    return " = ".join(views_of(row)) or str(row.get("view"))


def same_scores(a: dict, b: dict) -> bool:
    """Exactly the same score on every fold (and at least one score)."""
    sa, sb = list(a.get("scores") or []), list(b.get("scores") or [])
    return bool(sa) and sa == sb


def n_folds(row: dict) -> int:
    return int(row.get("n_folds") or len(row.get("scores") or []))


# --------------------------------------------------------------------------- statistics


def test_fraction(leaderboard: dict) -> float:
    """The test fraction of the leaderboard's t-test: the one it records, else 1/k for k
    folds, else test_size / rows, else the runner's default."""
    protocol = leaderboard.get("protocol") or {}
    recorded = protocol.get("test_fraction")
    if finite(recorded) and 0 < recorded < 1:
        return float(recorded)
    folds = protocol.get("folds")
    if isinstance(folds, int) and not isinstance(folds, bool) and folds >= 2:
        return 1.0 / folds
    rows = (leaderboard.get("data") or {}).get("rows")
    size = protocol.get("test_size")
    if finite(size) and finite(rows) and 0 < size < rows:
        return float(size) / float(rows)
    return DEFAULT_TEST_FRACTION


def better_by(a: float, b: float, greater_is_better: bool) -> float:
    """How much better ``a`` is than ``b`` (negative when worse)."""
    return (a - b) if greater_is_better else (b - a)


#: Row keys the leaderboard's test reads besides the scores (which resampling scored them).
TEST_KEYS = ("scores", "resampling")


def leaderboard_test(a: dict, b: dict, leaderboard: dict) -> tuple[float | None, bool]:
    """``(p_value, same)`` of two rows by the leaderboard's own test: its
    :func:`~dlrun.evaluation.stats.mark_same_as_best` on the pair, with its test fraction
    (so rounding, alpha, and rows scored on other folds are treated exactly as the
    leaderboard treats them)."""
    from dlrun.evaluation.stats import mark_same_as_best

    pair = [{k: row[k] for k in TEST_KEYS if k in row} for row in (a, b)]
    for row in pair:
        row["scores"] = list(row.get("scores") or [])
    mark_same_as_best(pair, test_fraction(leaderboard))
    return pair[1]["p_value"], bool(pair[1]["same_as_best"])


#: The names of the tests behind a verdict, as sentences give them.
TTEST = "corrected resampled t-test"
TESTS = {"diebold-mariano": "Diebold-Mariano test"}


def compare(a: dict, b: dict, leaderboard: dict) -> dict:
    """Row ``a`` against row ``b``: ``margin`` (positive: a is better), ``p_value`` (None when
    the leaderboard's test cannot compare them, e.g. too few scores), ``real`` (the test tells
    them apart at the leaderboard's level), ``tested`` and ``test`` (its name)."""
    gib = bool(leaderboard.get("greater_is_better", True))
    margin = better_by(float(a["mean"]), float(b["mean"]), gib)
    p, same = leaderboard_test(a, b, leaderboard)
    paired = a.get("resampling") == b.get("resampling")
    return {"margin": margin, "p_value": p, "real": not same and p is not None, "tested": p is not None,
            "test": TTEST if paired else f"{TTEST}, unpaired (different resamplings)"}


def versus_best(best: dict, row: dict, leaderboard: dict) -> dict:
    """Like :func:`compare`, but the verdict on ``row`` is the leaderboard's own
    (``p_value``, ``same_as_best``) whenever it has one."""
    cmp = compare(best, row, leaderboard)
    if row is best:
        return {**cmp, "p_value": 1.0, "real": False, "tested": True}
    if "p_value" in row or "same_as_best" in row:
        p = row.get("p_value")
        cmp["p_value"] = float(p) if finite(p) else None
        cmp["tested"] = cmp["p_value"] is not None
        cmp["real"] = not bool(row.get("same_as_best")) and cmp["tested"]
        if row.get("test"):
            cmp["test"] = TESTS.get(str(row["test"]), str(row["test"]))
    return cmp


def significance(cmp: dict, fmt: Formatter) -> str:
    """``a significant difference (corrected resampled t-test, p = 0.012)``, ``no significant
    difference (..., p = 0.31)``, or why it was not tested."""
    if not cmp.get("tested"):
        return "not tested: too few fold scores"
    word = "a significant difference" if cmp["real"] else "no significant difference"
    return f"{word} ({cmp.get('test') or TTEST}, {fmt.p_is(cmp['p_value'])})"


def summarize(leaderboard: dict) -> dict:
    """The headline rows and margins: best, baseline (the floor), the bar, the best net."""
    rows = scored_rows(leaderboard)
    best = rows[0] if rows else None
    baseline = first(rows, has_role(BASELINE))
    bar = first(rows, has_role(BAR))
    deep = first(rows, has_role(NET))
    out: dict[str, Any] = {"best": best, "baseline": baseline, "bar": bar, "deep": deep}
    if best and baseline:
        out["vs_baseline"] = versus_best(best, baseline, leaderboard)
        base = float(baseline["mean"])
        out["vs_baseline"]["relative"] = out["vs_baseline"]["margin"] / abs(base) if base else None
    if best and bar and bar is not best:
        out["vs_bar"] = versus_best(best, bar, leaderboard)
    return out


# --------------------------------------------------------------------------- formats


def decimals_for(leaderboard: dict) -> int:
    """Decimals that show the leaderboard's scores at a sensible precision."""
    values = [abs(float(r["mean"])) for r in scored_rows(leaderboard)]
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
        return f"{float(value):{'+' if signed else ''}.{self.decimals}f}"

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
        """A p-value: three decimals, four near the 0.05 level (so 0.0496 never reads 0.050)."""
        if not finite(value):
            return "n/a"
        if value < 0.001:
            return "<0.001"
        return f"{value:.4f}" if 0.04 <= value < 0.06 else f"{value:.3f}"

    def p_is(self, value: Any) -> str:
        """``p = 0.030``, ``p < 0.001``."""
        shown = self.p(value)
        return f"p {shown[0]} {shown[1:]}" if shown.startswith("<") else f"p = {shown}"

    def p_text(self, cmp: dict) -> str:
        return self.p_is(cmp["p_value"]) if cmp.get("tested") else "not tested: too few fold scores"


def join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
