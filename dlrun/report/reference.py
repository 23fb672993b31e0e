"""The evaluation protocol in words, and how our scores compare with a published reference."""

from __future__ import annotations

import re
from typing import Any

from dlrun.report.analysis import Formatter, better_by, finite

#: Protocol keys that are not shown in its description (internal to the t-test).
HIDDEN_KEYS = ("name", "folds", "repeats", "seed", "test_fraction")


def protocol_text(protocol: dict | None, evaluation: Any = None) -> str:
    """``repeated stratified k-fold, 10 folds x 3 repeats, seed 1``."""
    protocol = dict(protocol or {})
    if not protocol and evaluation is not None:
        protocol = {
            "name": "repeated k-fold",
            "folds": getattr(evaluation, "folds", None),
            "repeats": getattr(evaluation, "repeats", None),
            "seed": getattr(evaluation, "seed", None),
        }
    parts = [str(protocol.get("name") or "resampling")]
    folds, repeats = protocol.get("folds"), protocol.get("repeats")
    if folds and repeats:
        parts.append(f"{folds} folds x {repeats} repeat{'s' if repeats > 1 else ''}")
    elif folds:
        parts.append(f"{folds} folds")
    parts.extend(
        f"{key.replace('_', ' ')} {value}"
        for key, value in protocol.items()
        if key not in HIDDEN_KEYS and isinstance(value, (int, float, str)) and not isinstance(value, bool)
    )
    if protocol.get("seed") is not None:
        parts.append(f"seed {protocol['seed']}")
    return ", ".join(parts)


def _design(name: str, folds: Any = None) -> str | None:
    if "walk" in name or "rolling" in name or "expanding" in name:
        return "walk-forward"
    if "fold" in name or "cross" in name or re.search(r"\bcv\b", name) or folds:
        return "k-fold"
    if "split" in name or "hold" in name or "test set" in name:
        return "hold-out"
    return None


def protocol_match(protocol: dict | None, reference_protocol: str) -> bool | None:
    """Whether our resampling design is the reference's: same design (k-fold, walk-forward,
    hold-out) and, where the reference names one, the same number of folds. Repeats only
    reduce variance, so they do not count. ``None`` when the reference does not say."""
    text = (reference_protocol or "").lower()
    if not text.strip():
        return None
    protocol = protocol or {}
    ours = _design(str(protocol.get("name") or "").lower(), protocol.get("folds"))
    theirs = _design(text)
    if theirs is None or ours is None:
        return None
    if ours != theirs:
        return False
    if ours == "k-fold":
        found = (re.search(r"n_splits\s*=\s*(\d+)", text)
                 or re.search(r"(\d+)\s*-?\s*(?:fold|x\s*\d*\s*cv|cv)", text)
                 or re.search(r"\b(\d+)\s*[x×]\s*\d+\b", text))
        if found and protocol.get("folds") and int(found.group(1)) != int(protocol["folds"]):
            return False
    return True


def match_sentence(matches: bool | None, ours: str, theirs: str) -> str:
    if matches is True:
        return f"Our protocol ({ours}) matches the reference protocol ({theirs}), so the scores are comparable."
    if matches is False:
        return (f"Our protocol ({ours}) does not match the reference protocol ({theirs}): "
                "treat the comparison as indicative only.")
    return (f"The reference protocol ({theirs}) cannot be matched with ours ({ours}): "
            "treat the comparison as indicative only.")


def reference_sentences(reference: dict, best: dict | None, baseline: dict | None, *,
                        metric: str, metric_key: str, greater_is_better: bool,
                        fmt: Formatter) -> list[str]:
    """How our best (and our floor) compare with the published scores."""
    if str(reference.get("metric") or "") != metric_key:
        return [f"The reference reports {reference.get('metric')}, not {metric}: its scores are "
                "not comparable with this leaderboard."]
    out: list[str] = []
    if best is None:
        return out
    for key in ("naive", "good"):
        value = reference.get(key)
        if not finite(value):
            continue
        diff = better_by(float(best["mean"]), float(value), greater_is_better)
        if abs(diff) < 10 ** -fmt.decimals:
            out.append(f"Our best, {fmt(best['mean'])}, equals the published {key} score.")
        else:
            out.append(f"Our best, {fmt(best['mean'])}, is {fmt(abs(diff))} "
                       f"{'better' if diff > 0 else 'worse'} than the published {key} score ({fmt(value)}).")
    if baseline is not None and finite(reference.get("naive")):
        gap = abs(float(baseline["mean"]) - float(reference["naive"]))
        if gap > max(float(baseline.get("std") or 0.0), 10 ** -fmt.decimals):
            out.append(f"Our naive baseline ({fmt(baseline['mean'])}) differs from the published naive "
                       f"score ({fmt(reference['naive'])}) by more than its spread: check that the data "
                       "and the metric are the same as the reference's.")
    return out
