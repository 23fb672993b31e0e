"""dlrun's benchmark: prints a table and writes bench-results/bench.json.

What it measures (each figure the median of --runs runs unless said otherwise):
  * start-up: wall time of `dlrun --help` and `dlrun new` (a fresh process each);
  * `dlrun evaluate` with the default suite on Pima, Sonar, Abalone and Adult from
    ../shared/datasets (skipped when absent): wall time, peak memory (the run's
    process plus its workers), mean fit seconds per fold for each algorithm, and a
    cached re-run;
  * the MLP-to-XGBoost fit-time ratio on the same folds (Pima);
  * --jobs 1 against --jobs 2 on the classical suite (Pima);
  * scaling with rows on generated data (10k, 100k, 1M rows x 20 features) for
    fast algorithms.

Usage: python bench/run.py [--runs N] [--quick] [--skip DATASETS] [--out DIR]
Every evaluation runs in its own process, in a scratch folder, so runs never
reuse each other's results unless the cached re-run is what is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
DLRUN = Path(sys.executable).with_name("dlrun")

DATASETS = {  # name: (file, no header)
    "pima": "pima-indians-diabetes.csv",
    "sonar": "sonar.csv",
    "abalone": "abalone.csv",
    "adult": "adult-train.csv",
}
CLASSICAL = "baseline,linear,knn,cart,svm,random_forest,extra_trees,xgboost"

# Runs one evaluation in this process and prints wall time, peak memory and the board.
RUNNER = r"""
import json, resource, sys, time
from dlrun import api
args = json.loads(sys.argv[1])
start = time.perf_counter()
board = api.evaluate(args["project"], only=args.get("only"), jobs=args.get("jobs", 1),
                     quick=args.get("quick", False))
wall = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
print(json.dumps({"wall": wall, "peak_mb": peak, "board": board}))
"""


def timed(cmd: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def evaluate(project: Path, **args) -> dict:
    out = subprocess.run([sys.executable, "-c", RUNNER, json.dumps({"project": str(project), **args})],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values):
    return round(statistics.median(values), 3) if values else None


def new_project(workdir: Path, name: str, data: str, *extra: str) -> Path:
    subprocess.run([str(DLRUN), "new", name, "--data", data, "--dir", str(workdir), *extra],
                   check=True, capture_output=True)
    return workdir / name


def per_algorithm_fit(board: dict) -> dict[str, float]:
    fits: dict[str, list[float]] = {}
    for row in board["rows"]:
        fits.setdefault(row["algorithm"], []).append(row["fit_seconds"])
    return {a: round(statistics.mean(v), 4) for a, v in fits.items()}


def bench_startup(runs: int, scratch: Path) -> dict:
    csv = scratch / "tiny.csv"
    csv.write_text("a,b,c\n" + "\n".join(f"{i},{i % 3},{i % 2}" for i in range(50)) + "\n")
    helps, news = [], []
    for i in range(runs):
        helps.append(timed([str(DLRUN), "--help"]))
        news.append(timed([str(DLRUN), "new", f"p{i}", "--data", str(csv), "--dir", str(scratch / "new")]))
    return {"help_s": median(helps), "new_s": median(news)}


def bench_dataset(name: str, runs: int, scratch: Path) -> dict | None:
    path = SHARED / DATASETS[name]
    if not path.is_file():
        return None
    walls, peaks, cached, board = [], [], [], None
    for i in range(runs):
        project = new_project(scratch / f"{name}-{i}", name, str(path))
        result = evaluate(project)
        walls.append(result["wall"])
        peaks.append(result["peak_mb"])
        board = result["board"]
        cached.append(evaluate(project)["wall"])
    fits = per_algorithm_fit(board)
    best = board["rows"][0]
    return {
        "rows": board["data"]["rows"], "protocol": board["protocol"], "wall_s": median(walls),
        "peak_mb": median(peaks), "cached_rerun_s": median(cached), "fit_s_per_fold": fits,
        "best": f"{best['algorithm']}/{best['view']} {best['mean']:.4f}",
        "mlp_to_xgboost": round(fits["mlp"] / fits["xgboost"], 2) if "mlp" in fits and "xgboost" in fits else None,
        "notes": board.get("notes", []),
    }


def bench_jobs(runs: int, scratch: Path) -> dict | None:
    path = SHARED / DATASETS["pima"]
    if not path.is_file():
        return None
    out = {}
    for jobs in (1, 2):
        walls = []
        for i in range(runs):
            project = new_project(scratch / f"jobs{jobs}-{i}", "pima", str(path))
            walls.append(evaluate(project, only=CLASSICAL.split(","), jobs=jobs)["wall"])
        out[f"jobs{jobs}_s"] = median(walls)
    out["speedup"] = round(out["jobs1_s"] / out["jobs2_s"], 2)
    return out


def bench_scaling(sizes: list[int], scratch: Path) -> list[dict]:
    import numpy as np
    import pandas as pd

    results = []
    for n in sizes:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n, 20)).astype("float32")
        y = (X[:, 0] + 0.5 * X[:, 1] - 0.25 * X[:, 2] + rng.normal(size=n) > 0).astype(int)
        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(20)])
        frame["target"] = y
        csv = scratch / f"gen{n}.csv"
        frame.to_csv(csv, index=False, float_format="%.5f")
        project = new_project(scratch / f"scale{n}", f"gen{n}", str(csv))
        spec = project / "project.yaml"
        spec.write_text(spec.read_text() + "views: [standardize]\n")
        result = evaluate(project, only=["baseline", "linear", "xgboost"])
        results.append({"rows": n, "protocol": result["board"]["protocol"], "wall_s": round(result["wall"], 2),
                        "peak_mb": round(result["peak_mb"]), "fit_s_per_fold": per_algorithm_fit(result["board"])})
        csv.unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median reported)")
    parser.add_argument("--quick", action="store_true", help="one run each, Pima and Sonar only, no 1M rows")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: startup,datasets,jobs,scaling")
    parser.add_argument("--out", default=str(REPO / "bench-results"))
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    skip = set(filter(None, args.skip.split(",")))
    names = ["pima", "sonar"] if args.quick else list(DATASETS)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    report: dict = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
                    "runs": runs, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    scratch = Path(tempfile.mkdtemp(prefix="dlrun-bench-"))
    try:
        if "startup" not in skip:
            report["startup"] = bench_startup(max(runs, 5), scratch)
            print(f"start-up: dlrun --help {report['startup']['help_s']} s, dlrun new {report['startup']['new_s']} s",
                  flush=True)
        if "datasets" not in skip:
            report["datasets"] = {}
            for name in names:
                result = bench_dataset(name, runs, scratch)
                if result is None:
                    print(f"{name}: not found in {SHARED}, skipped", flush=True)
                    continue
                report["datasets"][name] = result
                print(f"{name}: {result['wall_s']} s, peak {result['peak_mb']:.0f} MB, cached re-run "
                      f"{result['cached_rerun_s']} s, MLP/XGBoost fit {result['mlp_to_xgboost']}x, "
                      f"best {result['best']}", flush=True)
        if "jobs" not in skip:
            report["jobs"] = bench_jobs(runs, scratch)
            if report["jobs"]:
                print(f"classical suite on Pima: --jobs 1 {report['jobs']['jobs1_s']} s, --jobs 2 "
                      f"{report['jobs']['jobs2_s']} s, speed-up {report['jobs']['speedup']}x", flush=True)
        if "scaling" not in skip:
            report["scaling"] = bench_scaling(sizes, scratch)
            for row in report["scaling"]:
                print(f"{row['rows']:>9,} rows: {row['wall_s']} s, peak {row['peak_mb']} MB, "
                      f"{row['protocol']['folds']}x{row['protocol']['repeats']}, fit s/fold {row['fit_s_per_fold']}",
                      flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nwritten: {out / 'bench.json'}")


def print_table(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"dlrun benchmark (median of {report['runs']} run(s))")
    for col in ("dataset", "rows", "protocol", "wall s", "peak MB", "cached s", "MLP/XGB", "fit s/fold per algorithm"):
        table.add_column(col)
    for name, r in (report.get("datasets") or {}).items():
        fits = ", ".join(f"{a} {v:.3f}" for a, v in sorted(r["fit_s_per_fold"].items(), key=lambda kv: -kv[1]))
        proto = f"{r['protocol']['folds']}x{r['protocol']['repeats']}"
        table.add_row(name, str(r["rows"]), proto, f"{r['wall_s']:.1f}", f"{r['peak_mb']:.0f}",
                      f"{r['cached_rerun_s']:.1f}", str(r["mlp_to_xgboost"]), fits)
    for r in report.get("scaling") or []:
        fits = ", ".join(f"{a} {v:.3f}" for a, v in r["fit_s_per_fold"].items())
        proto = f"{r['protocol']['folds']}x{r['protocol']['repeats']}"
        table.add_row("generated", f"{r['rows']:,}", proto, f"{r['wall_s']:.1f}", str(r["peak_mb"]), "", "", fits)
    Console().print(table)
    if report.get("startup"):
        print(f"start-up: dlrun --help {report['startup']['help_s']} s; dlrun new {report['startup']['new_s']} s")
    if report.get("jobs"):
        j = report["jobs"]
        print(f"classical suite, Pima: --jobs 1 {j['jobs1_s']} s; --jobs 2 {j['jobs2_s']} s; speed-up {j['speedup']}x")


if __name__ == "__main__":
    main()
