"""The nested benchmark: how well, and how fast, dlrun picks and fits a model.

Protocol (the one ``../shared/notes/peers.md`` measured the peer tools with): outer
5-fold cross-validation (``StratifiedKFold`` for classification, ``KFold`` for
regression, ``shuffle=True, random_state=1``); inside each outer training fold dlrun
scaffolds a project from that fold's rows alone, runs ``evaluate --quick``, ``report``
(the final fit and the portfolio entry) and ``predict`` on the outer test fold's
features. The score is the mean over the 5 outer test folds: accuracy, or RMSE for
regression. Wall seconds cover the 5 folds of a dataset, scaffolding included.

Everything runs through ``dlrun.api`` in this one process -- as a practitioner's
script or notebook would, and as the peer tools are measured -- so TensorFlow starts
at most once for the whole benchmark; the first dataset's seconds include it.

Usage: python bench/nested.py [--datasets pima,sonar,...] [--out FILE.json] [--only ALGO,...]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"

# name: (file, task); every file has no header and its target in the last column
DATASETS = {
    "pima": ("pima-indians-diabetes.csv", "classification"),
    "sonar": ("sonar.csv", "classification"),
    "wheat-seeds": ("wheat-seeds.csv", "classification"),
    "housing": ("housing.csv", "regression"),
    "ionosphere": ("ionosphere.csv", "classification"),
    "banknote": ("banknote_authentication.csv", "classification"),
    "abalone": ("abalone.csv", "regression"),
}
DEFAULT = ("pima", "sonar", "wheat-seeds", "housing")


def read(name: str) -> tuple[pd.DataFrame, str]:
    file, task = DATASETS[name]
    path = SHARED / file
    frame = pd.read_csv(path, header=None)
    frame.columns = [f"c{i}" for i in range(frame.shape[1] - 1)] + ["target"]
    return frame, task


def outer_folds(frame: pd.DataFrame, task: str):
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (StratifiedKFold if task == "classification" else KFold)(5, shuffle=True, random_state=1)
    return list(splitter.split(frame, frame["target"] if task == "classification" else None))


def one_fold(frame, task, train, test, workdir: Path, only=None) -> tuple[float, dict]:
    from dlrun import api
    from dlrun.scaffold import new_project

    train_csv = workdir / "train.csv"
    frame.iloc[train].to_csv(train_csv, index=False)
    frame.iloc[test].drop(columns="target").to_csv(workdir / "test.csv", index=False)
    project = new_project("fold", data=str(train_csv), target="target", directory=workdir)
    marks = [time.perf_counter()]
    board = api.evaluate(project, quick=True, only=only)
    marks.append(time.perf_counter())
    entry = api.report(project, portfolio=workdir / "portfolio")
    marks.append(time.perf_counter())
    predicted = api.predict(entry, workdir / "test.csv", workdir / "predictions.csv")
    marks.append(time.perf_counter())
    truth = frame["target"].iloc[test].to_numpy()
    pred = predicted["prediction"].to_numpy()
    if task == "classification":
        score = float(np.mean(pred.astype(str) == truth.astype(str)))
    else:
        score = float(np.sqrt(np.mean((pred.astype(float) - truth.astype(float)) ** 2)))
    best = board["rows"][0]
    return score, {"best": f"{best['algorithm']}/{best['view']}", "fits": board["jobs"]["computed"],
                   "raced": len(board.get("raced") or []),
                   "seconds": {step: round(marks[i + 1] - marks[i], 2)
                               for i, step in enumerate(("evaluate", "report", "predict"))}}


#: Report sections the nested benchmark leaves out: they explain the chosen model (refitting
#: it on up to 5 folds for the permutation importance) and take no part in choosing or
#: fitting it, which is all PyCaret's side does.
SKIPPED_SECTIONS = ("explanations",)


def skip_sections() -> None:
    from dlrun.catalogue import REPORT_SECTIONS
    from dlrun.plugins import load_plugins

    load_plugins()
    for name in SKIPPED_SECTIONS:
        if name in REPORT_SECTIONS:
            REPORT_SECTIONS.unregister(name)


def bench(name: str, only=None) -> dict:
    skip_sections()
    frame, task = read(name)
    start = time.perf_counter()
    scores, details = [], []
    for train, test in outer_folds(frame, task):
        workdir = Path(tempfile.mkdtemp(prefix=f"dlrun-nested-{name}-"))
        try:
            score, detail = one_fold(frame, task, train, test, workdir, only)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        scores.append(score)
        details.append(detail)
    seconds = time.perf_counter() - start
    return {"dataset": name, "metric": "accuracy" if task == "classification" else "rmse",
            "score": round(float(np.mean(scores)), 4), "fold_scores": [round(s, 4) for s in scores],
            "seconds": round(seconds, 1), "folds": details}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DEFAULT),
                        help=f"comma-separated, from: {','.join(DATASETS)}")
    parser.add_argument("--only", default="", help="evaluate only these algorithms (default: all)")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    names = [n for n in args.datasets.split(",") if n]
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset(s): {', '.join(unknown)}")
    results = []
    print(f"{'dataset':<12} {'metric':<9} {'score':>7} {'wall s':>7}  best row per outer fold", flush=True)
    for name in names:
        if not (SHARED / DATASETS[name][0]).is_file():
            print(f"{name:<12} skipped: {SHARED / DATASETS[name][0]} is absent", flush=True)
            continue
        result = bench(name, [a for a in args.only.split(",") if a] or None)
        results.append(result)
        print(f"{name:<12} {result['metric']:<9} {result['score']:>7.3f} {result['seconds']:>7.1f}  "
              + ", ".join(d["best"] for d in result["folds"]), flush=True)
    total = sum(r["seconds"] for r in results)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total':<12} {'':<9} {'':>7} {total:>7.1f}  peak memory {peak:.0f} MB", flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"results": results, "total_seconds": round(total, 1),
                                              "peak_mb": round(peak)}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
