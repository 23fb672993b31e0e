"""dlrun's benchmark: prints a table and writes bench-results/bench.json.

What it measures (each figure the median of --runs runs unless said otherwise):
  * start-up: wall time of `dlrun --help` and `dlrun new` (a fresh process each);
  * `dlrun evaluate` with the default suite on Pima, Sonar, Abalone and Adult from
    ../shared/datasets (skipped when absent): wall time, peak memory (the run's
    process plus its workers), mean fit seconds per fold for each algorithm, and a
    cached re-run;
  * nets: the MLP against XGBoost alone on the same folds (Pima, Sonar, Ionosphere,
    wheat-seeds, banknote, Housing, Abalone): fit seconds per fold, their ratio, the
    scores, and the median ratio over the datasets (the nets' cost target: at most 3);
  * --jobs 1 against --jobs 2 on the classical suite (Pima);
  * scaling with rows on generated data (10k, 100k, 1M rows x 20 features) for
    fast algorithms;
  * the nested benchmark (bench/nested.py): how well and how fast dlrun picks and fits
    a model inside each outer fold of 5-fold cross-validation, per dataset.

Usage: python bench/run.py [--runs N] [--quick] [--skip PARTS] [--only PARTS]
                           [--datasets NAMES] [--nets NAMES] [--tree DIR --label NAME]
       python bench/run.py --compare OLD.json NEW.json

Before/after figures: ``--tree DIR`` benchmarks another checkout of dlrun (for
example ``git worktree add /tmp/before <commit>``) with this environment's
packages, and ``--label`` names its JSON file; ``--compare`` prints two result
files side by side. Every evaluation runs in its own process, in a scratch
folder, so runs never reuse each other's results unless the cached re-run is
what is measured.
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
    "ionosphere": "ionosphere.csv",
    "seeds": "wheat-seeds.csv",
    "banknote": "banknote_authentication.csv",
    "housing": "housing.csv",
}
EVALUATED = ("pima", "sonar", "abalone", "adult")  # the datasets part's default
NETS = "pima,sonar,ionosphere,seeds,banknote,housing,abalone"  # the nets part's default
#: the nets' cost target: median MLP/XGBoost fit time per fold over the nets' datasets
NETS_RATIO_TARGET = 3.0
CLASSICAL = "baseline,linear,knn,cart,svm,random_forest,extra_trees,xgboost"
PARTS = ("startup", "nets", "datasets", "jobs", "scaling", "nested")
ENV = dict(os.environ)  # --tree puts another checkout first on the subprocesses' path

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


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def evaluate(project: Path, **args) -> dict:
    out = subprocess.run([sys.executable, "-c", RUNNER, json.dumps({"project": str(project), **args})],
                         cwd=project.parent, env=ENV, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values):
    return round(statistics.median(values), 3) if values else None


def new_project(workdir: Path, name: str, data: str, *extra: str) -> Path:
    subprocess.run([str(DLRUN), "new", name, "--data", data, "--dir", str(workdir), *extra],
                   cwd=workdir.parent, env=ENV, check=True, capture_output=True)
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
        helps.append(timed([str(DLRUN), "--help"], scratch))
        news.append(timed([str(DLRUN), "new", f"p{i}", "--data", str(csv), "--dir", str(scratch / "new")], scratch))
    out = {"help_s": median(helps), "new_s": median(news)}
    adult = SHARED / DATASETS["adult"]
    if adult.is_file():  # the largest bundled CSV: 32k rows, 15 columns
        out["new_adult_s"] = median([timed([str(DLRUN), "new", f"a{i}", "--data", str(adult), "--dir",
                                            str(scratch / "new")], scratch) for i in range(runs)])
    return out


def bench_nets(names: list[str], runs: int, scratch: Path, quick: bool = False) -> dict:
    """The MLP and XGBoost alone on the same folds and views: the nets' cost (``quick``:
    the --quick protocol)."""
    out = {}
    for name in names:
        path = SHARED / DATASETS[name]
        if not path.is_file():
            continue
        mlp, xgb, boards = [], [], []
        for i in range(runs):
            project = new_project(scratch / f"nets-{name}-{i}", name, str(path))
            board = evaluate(project, only=["mlp", "xgboost"], quick=quick)["board"]
            fits = per_algorithm_fit(board)
            mlp.append(fits["mlp"])
            xgb.append(fits["xgboost"])
            boards.append(board)
        best = {}
        for row in boards[-1]["rows"]:
            best.setdefault(row["algorithm"], f"{row['view']} {row['mean']:.4f} ± {row.get('std', 0.0):.4f}")
        out[name] = {"mlp_fit_s": median(mlp), "xgboost_fit_s": median(xgb),
                     "ratio": round(statistics.median(m / x for m, x in zip(mlp, xgb, strict=True)), 2),
                     "best_mlp": best.get("mlp"), "best_xgboost": best.get("xgboost"),
                     "metric": boards[-1].get("metric"), "protocol": boards[-1].get("protocol")}
    return out


def median_ratio(nets: dict) -> float | None:
    """The median over datasets of the MLP/XGBoost fit-time ratio (the cost target's figure)."""
    ratios = [r["ratio"] for r in nets.values() if r.get("ratio") is not None]
    return round(statistics.median(ratios), 2) if ratios else None


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
                        "peak_mb": round(result["peak_mb"]), "fit_s_per_fold": per_algorithm_fit(result["board"]),
                        "notes": result["board"].get("notes", [])})
        csv.unlink()
    return results


def bench_nested(names: list[str] | None, scratch: Path) -> dict | None:
    """bench/nested.py (outer 5-fold; evaluate --quick, report, predict in each outer
    training fold) in its own process; its table is printed as it goes."""
    out = scratch / "nested.json"
    cmd = [sys.executable, str(REPO / "bench" / "nested.py"), "--out", str(out)]
    if names:
        cmd += ["--datasets", ",".join(names)]
    print("nested benchmark (accuracy or RMSE over 5 outer folds):", flush=True)
    subprocess.run(cmd, env=ENV, check=False)
    return json.loads(out.read_text()) if out.is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median reported)")
    parser.add_argument("--quick", action="store_true", help="one run each, Pima and Sonar only, no 1M rows")
    parser.add_argument("--skip", default="", help=f"comma-separated parts to skip: {','.join(PARTS)}")
    parser.add_argument("--only", default="", help="comma-separated parts to run (default: all)")
    parser.add_argument("--datasets", default="", help=f"datasets for the datasets part: {','.join(DATASETS)}")
    parser.add_argument("--nets", default=NETS, help="datasets for the nets part")
    parser.add_argument("--tree", help="benchmark this checkout of dlrun instead of the installed one")
    parser.add_argument("--label", default="bench", help="names the result file: OUT/LABEL.json")
    parser.add_argument("--out", default=str(REPO / "bench-results"))
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="print two result files side by side")
    args = parser.parse_args()
    if args.compare:
        old, new = (json.loads(Path(p).read_text()) for p in args.compare)
        print_comparison(old, new)
        return
    runs = 1 if args.quick else args.runs
    parts = [p for p in PARTS if p in (set(args.only.split(",")) if args.only else set(PARTS))]
    parts = [p for p in parts if p not in set(args.skip.split(","))]
    names = args.datasets.split(",") if args.datasets else (["pima", "sonar"] if args.quick else list(EVALUATED))
    unknown = [n for n in names + args.nets.split(",") if n not in DATASETS]
    if unknown:
        parser.error(f"--datasets/--nets: unknown {', '.join(unknown)} (known: {', '.join(DATASETS)})")
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    tree = REPO
    if args.tree:
        tree = Path(args.tree).resolve()
        if not (tree / "dlrun" / "__init__.py").is_file():
            parser.error(f"--tree: no dlrun package in {tree}")
        ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), ENV.get("PYTHONPATH")]))
    commit = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%h %s"], capture_output=True,
                            text=True).stdout.strip()
    report: dict = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}, "tree": str(tree),
                    "commit": commit, "runs": runs, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    print(f"benchmarking {tree} ({commit}), median of {runs} run(s): {', '.join(parts)}", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="dlrun-bench-"))
    try:
        if "startup" in parts:
            report["startup"] = bench_startup(max(runs, 5), scratch)
            print(f"start-up: {report['startup']}", flush=True)
        if "nets" in parts:
            report["nets"] = bench_nets(["pima", "sonar"] if args.quick else args.nets.split(","), runs,
                                        scratch, quick=args.quick)
            for name, r in report["nets"].items():
                print(f"nets on {name}: {r}", flush=True)
            report["nets_median_ratio"] = median_ratio(report["nets"])
            print(f"MLP/XGBoost fit time per fold, median over {len(report['nets'])} datasets: "
                  f"{report['nets_median_ratio']}x (target: at most {NETS_RATIO_TARGET:g}x)", flush=True)
        if "datasets" in parts:
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
        if "jobs" in parts:
            report["jobs"] = bench_jobs(runs, scratch)
            if report["jobs"]:
                print(f"classical suite on Pima: {report['jobs']}", flush=True)
        if "scaling" in parts:
            report["scaling"] = bench_scaling(sizes, scratch)
            for row in report["scaling"]:
                print(f"{row['rows']:>9,} rows: {row['wall_s']} s, peak {row['peak_mb']} MB", flush=True)
        if "nested" in parts:
            report["nested"] = bench_nested(["pima", "sonar"] if args.quick else None, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.label}.json").write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nwritten: {out / (args.label + '.json')}")


def print_table(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=150)
    table = Table(title=f"dlrun benchmark: {report.get('commit', '')} (median of {report['runs']} run(s))")
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
    if table.rows:
        console.print(table)
    if report.get("nets"):
        nets = Table(title="MLP against XGBoost alone, same folds and views",
                     caption=f"median MLP/XGBoost ratio: {report.get('nets_median_ratio')}x "
                             f"(target: at most {NETS_RATIO_TARGET:g}x)")
        for col in ("dataset", "MLP s/fold", "XGBoost s/fold", "ratio", "best MLP", "best XGBoost"):
            nets.add_column(col)
        for name, r in report["nets"].items():
            nets.add_row(name, f"{r['mlp_fit_s']:.3f}", f"{r['xgboost_fit_s']:.3f}", f"{r['ratio']}x",
                         str(r["best_mlp"]), str(r["best_xgboost"]))
        console.print(nets)
    if report.get("startup"):
        print("start-up: " + ", ".join(f"{k} {v} s" for k, v in report["startup"].items()))
    if report.get("jobs"):
        j = report["jobs"]
        print(f"classical suite, Pima: --jobs 1 {j['jobs1_s']} s; --jobs 2 {j['jobs2_s']} s; speed-up {j['speedup']}x")


def _flat(report: dict) -> dict[str, float]:
    """Comparable figures of one result file, keyed by a readable name."""
    out = {f"start-up {k}": v for k, v in (report.get("startup") or {}).items()}
    for name, r in (report.get("nets") or {}).items():
        out.update({f"nets {name}: MLP s/fold": r["mlp_fit_s"], f"nets {name}: XGBoost s/fold": r["xgboost_fit_s"],
                    f"nets {name}: MLP/XGBoost": r["ratio"]})
    if report.get("nets_median_ratio") is not None:
        out["nets: median MLP/XGBoost"] = report["nets_median_ratio"]
    for name, r in (report.get("datasets") or {}).items():
        out.update({f"{name}: wall s": r["wall_s"], f"{name}: peak MB": r["peak_mb"],
                    f"{name}: cached re-run s": r["cached_rerun_s"]})
        out.update({f"{name}: {a} s/fold": v for a, v in r["fit_s_per_fold"].items()})
    for k, v in (report.get("jobs") or {}).items():
        out[f"jobs {k}"] = v
    for r in report.get("scaling") or []:
        out[f"{r['rows']:,} rows: wall s"] = r["wall_s"]
        out[f"{r['rows']:,} rows: peak MB"] = r["peak_mb"]
    return out


def print_comparison(old: dict, new: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    a, b = _flat(old), _flat(new)
    def name(r):
        return (r.get("commit") or "?").split()[0]

    table = Table(title=f"before {name(old)} (median of {old['runs']}) -> after {name(new)} (median of {new['runs']})")
    for col in ("figure", "before", "after", "after/before"):
        table.add_column(col)
    for key in [k for k in a if k in b] + [k for k in b if k not in a]:
        x, y = a.get(key), b.get(key)
        ratio = f"{y / x:.2f}" if isinstance(x, (int, float)) and isinstance(y, (int, float)) and x else ""
        table.add_row(key, "" if x is None else str(x), "" if y is None else str(y), ratio)
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
