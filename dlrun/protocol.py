"""The resampling protocol for a data size: dlrun's plan for large data.

Light on purpose (no NumPy): `dlrun new` writes the protocol that suits the
data it scaffolds from, and `dlrun evaluate` applies the same rule to specs
that leave folds and repeats unset.
"""

from __future__ import annotations

#: Default protocol: repeated k-fold, 10 folds x 3 repeats.
DEFAULT_FOLDS = 10
DEFAULT_REPEATS = 3
#: Row counts above which the default protocol scales down (spec values that
#: were set explicitly are always honoured).
LARGE_ROWS = 20_000
HUGE_ROWS = 100_000


def choose_protocol(n_rows: int, folds: int, repeats: int, *, explicit: set[str], quick: bool):
    """Folds and repeats for this data size; returns (folds, repeats, notes).

    Up to 20,000 rows: the spec's protocol (10 x 3 by default). Above: 5 folds x
    1 repeat; above 100,000 rows: 3 x 1 -- the test folds are then large enough
    for a precise score, and a repeat would double hours of fitting. ``explicit``
    names the settings the user wrote, which are kept."""
    notes = []
    if quick:
        f, r = min(folds, 5), 1
        notes.append(f"--quick: {f} folds x 1 repeat")
        return f, r, notes
    f, r = folds, repeats
    if n_rows > HUGE_ROWS:
        if "repeats" not in explicit:
            r = 1
        if "folds" not in explicit:
            f = min(f, 3)
    elif n_rows > LARGE_ROWS:
        if "repeats" not in explicit:
            r = 1
        if "folds" not in explicit:
            f = min(f, 5)
    if (f, r) != (folds, repeats):
        notes.append(f"{n_rows:,} rows: protocol scaled down to {f} folds x {r} repeat(s)")
    return f, r, notes
