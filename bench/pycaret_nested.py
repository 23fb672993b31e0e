"""PyCaret's side of the nested benchmark (bench/nested.py): the same outer folds, and in
each outer training fold PyCaret 3.3's ``setup`` + ``compare_models`` picks a model,
``finalize_model`` refits it on the whole outer training fold, ``predict_model`` scores
the outer test fold.

PyCaret pins old versions of scikit-learn and pandas, so it runs from a throw-away
virtual environment outside the repository, never dlrun's:

    python3.11 -m venv /tmp/pycaret-venv
    /tmp/pycaret-venv/bin/pip install "pycaret==3.3.2"
    OMP_WAIT_POLICY=PASSIVE /tmp/pycaret-venv/bin/python bench/pycaret_nested.py

(``OMP_WAIT_POLICY=PASSIVE``: on 2 cores its OpenMP threads otherwise spin, 3-4x slower.)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nested import DATASETS, DEFAULT, SHARED, outer_folds, read  # noqa: E402


def bench(name: str) -> dict:
    frame, task = read(name)
    if task == "classification":
        from pycaret.classification import compare_models, finalize_model, predict_model, setup
    else:
        from pycaret.regression import compare_models, finalize_model, predict_model, setup
    start = time.perf_counter()
    scores, picked = [], []
    for train, test in outer_folds(frame, task):
        setup(data=frame.iloc[train].reset_index(drop=True), target="target", session_id=1,
              verbose=False, html=False)
        best = compare_models(verbose=False)
        final = finalize_model(best)
        predicted = predict_model(final, data=frame.iloc[test].drop(columns="target"), verbose=False)
        truth = frame["target"].iloc[test].to_numpy()
        pred = predicted["prediction_label"].to_numpy()
        if task == "classification":
            scores.append(float(np.mean(pred.astype(str) == truth.astype(str))))
        else:
            scores.append(float(np.sqrt(np.mean((pred.astype(float) - truth) ** 2))))
        picked.append(type(best).__name__)
    return {"dataset": name, "metric": "accuracy" if task == "classification" else "rmse",
            "score": round(float(np.mean(scores)), 4), "seconds": round(time.perf_counter() - start, 1),
            "picked": picked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DEFAULT))
    parser.add_argument("--out")
    args = parser.parse_args()
    results = []
    for name in args.datasets.split(","):
        if not (SHARED / DATASETS[name][0]).is_file():
            continue
        result = bench(name)
        results.append(result)
        print(f"{name:<12} {result['metric']:<9} {result['score']:>7.3f} {result['seconds']:>7.1f}  "
              + ", ".join(result["picked"]), flush=True)
    total = sum(r["seconds"] for r in results)
    print(f"{'total':<12} {'':<9} {'':>7} {total:>7.1f}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"results": results, "total_seconds": round(total, 1)}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
