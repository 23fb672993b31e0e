"""The portfolio entry (README.md, report.html, results.json, figures) and the index."""

from __future__ import annotations

import json
import random
import re
import statistics
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dlrun.report.entry import write_entry
from dlrun.report.lessons import derive_lessons
from dlrun.report.model import CodeBlock, Figure, Link, Paragraph, Section, Strong, Table, text
from dlrun.report.portfolio import refresh_index
from dlrun.report.reference import protocol_match
from dlrun.spec import DataSpec, EvaluationSpec, ProjectSpec, ReferenceSpec

MALICIOUS = "<script>alert(1)</script>"


def _spec(
    name="pima",
    description="Pima Indians diabetes onset.",
    reference=None,
    task="classification",
    metric="accuracy",
):
    # model_construct: the report only reads the spec, so it does not need the catalogue.
    return ProjectSpec.model_construct(
        name=name,
        description=description,
        task=task,
        data=DataSpec(source="data/pima.csv", target="col8", header=False),
        metric=metric,
        views=None,
        algorithms=None,
        params={},
        evaluation=EvaluationSpec(folds=10, repeats=3, seed=1),
        reference=reference,
    )


def _row(algorithm, view, centre, spread, *, seed, same_as_best=False, p_value=0.0, fit=0.1):
    rng = random.Random(seed)
    scores = [round(rng.gauss(centre, spread), 4) for _ in range(30)]
    return {
        "algorithm": algorithm,
        "view": view,
        "mean": statistics.fmean(scores),
        "std": statistics.stdev(scores),
        "scores": scores,
        "fit_seconds": fit,
        "same_as_best": same_as_best,
        "p_value": p_value,
        "n_folds": 30,
    }


def _leaderboard(*, error="ValueError: negative values in data passed to power"):
    rows = [
        _row("linear", "standardize", 0.78, 0.03, seed=1, same_as_best=True, p_value=1.0, fit=0.05),
        _row("svm", "standardize", 0.772, 0.03, seed=2, same_as_best=True, p_value=0.4, fit=0.2),
        _row("mlp", "standardize", 0.765, 0.035, seed=3, same_as_best=True, p_value=0.2, fit=4.0),
        _row("xgboost", "raw", 0.755, 0.035, seed=4, same_as_best=False, p_value=0.03, fit=1.3),
        _row("xgboost", "standardize", 0.754, 0.035, seed=5, p_value=0.03, fit=1.3),
        _row("knn", "standardize", 0.74, 0.04, seed=6, p_value=0.002, fit=0.01),
        _row("knn", "raw", 0.715, 0.04, seed=7, p_value=0.0001, fit=0.01),
        _row("cart", "raw", 0.70, 0.05, seed=8, p_value=0.0001, fit=0.02),
        _row("mlp", "raw", 0.68, 0.05, seed=9, p_value=0.0001, fit=4.0),
        _row("svm", "raw", 0.66, 0.03, seed=10, p_value=0.0001, fit=0.2),
        _row("baseline", "raw", 0.651, 0.005, seed=11, p_value=0.0, fit=0.001),
    ]
    rows.sort(key=lambda r: r["mean"], reverse=True)
    rows[0]["same_as_best"], rows[0]["p_value"] = True, 1.0
    return {
        "project": "pima",
        "task": "classification",
        "metric": "accuracy",
        "metric_label": "accuracy",
        "greater_is_better": True,
        "protocol": {"name": "repeated stratified k-fold", "folds": 10, "repeats": 3, "seed": 1},
        "rows": rows,
        "jobs": {"total": 330, "computed": 300, "reused": 30},
        "failures": [{"algorithm": "svm", "view": "power", "error": error}],
        "notes": ["max_rows not reached: no subsampling"],
        "created": "2026-11-23T12:00:00Z",
    }


FINAL_MODEL = {
    "algorithm": "linear",
    "view": "standardize",
    "path": "model/model.joblib",
    "files": ["model/model.joblib"],
    "fit_seconds": 0.04,
    "params": {"C": 1.0, "max_iter": 1000},
}
DATA = {
    "rows": 768,
    "features": 8,
    "numeric": 8,
    "categorical": 0,
    "missing_cells": 0,
    "target": "col8",
    "classes": {"0": 500, "1": 268},
}
REFERENCE = ReferenceSpec(
    dataset="pima-indians-diabetes",
    metric="accuracy",
    protocol="10-fold cross-validation",
    naive=0.651,
    good=0.771,
    good_model="logistic regression",
    source="Brownlee, standard machine learning datasets",
)


def _write(tmp_path: Path, name="pima", **kwargs) -> Path:
    spec = kwargs.pop("spec", None) or _spec(name=name, reference=kwargs.pop("reference", None))
    entry = tmp_path / "portfolio" / name
    (entry / "model").mkdir(parents=True, exist_ok=True)
    (entry / "model" / "model.joblib").write_bytes(b"not really a model")
    return write_entry(
        entry,
        spec=spec,
        leaderboard=kwargs.pop("leaderboard", None) or _leaderboard(),
        final_model=FINAL_MODEL,
        data_summary=kwargs.pop("data_summary", None) or DATA,
        **kwargs,
    )


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for key, value in attrs:
            if key in ("src", "href"):
                self.urls.append((tag, key, value or ""))


def test_entry_files_and_headline(tmp_path):
    leaderboard = _leaderboard()
    entry = _write(tmp_path)
    for name in (
        "README.md",
        "report.html",
        "results.json",
        "figures/scores.png",
        "figures/views.png",
    ):
        assert (entry / name).is_file(), name
    assert (entry / "figures" / "scores.png").read_bytes().startswith(b"\x89PNG")
    assert not [p for p in entry.rglob("*.tmp")], "temporary files left behind"

    readme = (entry / "README.md").read_text()
    best, baseline = leaderboard["rows"][0], leaderboard["rows"][-1]
    assert best["algorithm"] == "linear" and baseline["algorithm"] == "baseline"
    assert readme.startswith("# pima\n")
    assert "Pima Indians diabetes onset." in readme
    assert f"accuracy {best['mean']:.3f} ± {best['std']:.3f}" in readme
    margin = best["mean"] - baseline["mean"]
    assert f"beats the naive baseline ({baseline['mean']:.3f}" in readme
    assert f"by {margin:.3f} accuracy" in readme
    xgb = next(r for r in leaderboard["rows"] if r["algorithm"] == "xgboost")
    assert f"Against the bar, xgboost on 'raw' ({xgb['mean']:.3f}" in readme
    # leaderboard table: one row per algorithm, with the within-noise markers
    table = [line for line in readme.splitlines() if line.startswith("| ") and " | " in line]
    assert any(
        line.startswith("| 1 | **linear** | standardize |") and "best" in line for line in table
    )
    assert any("| svm | standardize |" in line and "yes (p = 0.400)" in line for line in table)
    assert any("| knn | standardize |" in line and "| no (p = 0.002)" in line for line in table)
    assert "repeated stratified k-fold, 10 folds x 3 repeats, seed 1" in readme
    assert "768 rows, 8 features (8 numeric), 0 missing cells" in readme
    assert "0: 500 (65.1%), 1: 268 (34.9%)" in readme
    assert "dlrun predict portfolio/pima --data new.csv --out predictions.csv" in readme
    assert "![Fold scores per algorithm](figures/scores.png)" in readme
    assert "300 computed" in readme and "30 reused" in readme
    assert "| svm | power | ValueError: negative values" in readme
    assert "Scaling the inputs helped significantly" in readme
    assert "svm " in readme.split("Scaling the inputs helped significantly", 1)[1].split("\n")[0]
    assert "[model/model.joblib](model/model.joblib)" in readme
    assert "Published reference" not in readme  # no reference given


def test_results_json_round_trips(tmp_path):
    leaderboard = _leaderboard()
    leaderboard["rows"][3]["std"] = float("nan")  # NaN must not make invalid JSON
    entry = _write(tmp_path, leaderboard=leaderboard, reference=REFERENCE)
    text = (entry / "results.json").read_text()
    assert "NaN" not in text
    results = json.loads(text)
    from dlrun import __version__

    assert results["dlrun_version"] == __version__
    assert results["created"].endswith("Z")
    assert results["project"]["name"] == "pima"
    assert results["project"]["metric"] == "accuracy"
    assert results["spec"]["data"]["target"] == "col8"
    assert results["final_model"] == FINAL_MODEL
    assert results["data_summary"] == DATA
    assert results["reference"]["good"] == 0.771
    assert [r["algorithm"] for r in results["leaderboard"]["rows"]] == [
        r["algorithm"] for r in leaderboard["rows"]
    ]
    assert results["leaderboard"]["rows"][0]["scores"] == leaderboard["rows"][0]["scores"]
    assert results["leaderboard"]["rows"][3]["std"] is None
    assert results["summary"]["best"]["algorithm"] == "linear"
    assert results["summary"]["baseline"]["algorithm"] == "baseline"
    assert results["summary"]["xgboost"]["view"] == "raw"
    margin = leaderboard["rows"][0]["mean"] - leaderboard["rows"][-1]["mean"]
    assert results["summary"]["margins"]["over_baseline"] == pytest.approx(margin)
    assert results["summary"]["protocol_matches_reference"] is True
    assert "figures/scores.png" in results["files"]["figures"]
    assert results["lessons"] and all(isinstance(s, str) for s in results["lessons"])


def test_reference_scores_and_protocol_match(tmp_path):
    entry = _write(tmp_path, reference=REFERENCE)
    readme = (entry / "README.md").read_text()
    assert "## Published reference" in readme
    assert "| Naive score | 0.651 |" in readme
    assert "| Good score | 0.771 (logistic regression) |" in readme
    assert "| Our protocol matches | yes |" in readme
    assert "matches the reference protocol (10-fold cross-validation)" in readme
    assert "better than the published good score (0.771)" in readme

    other = REFERENCE.model_copy(update={"protocol": "single 70/30 train/test split"})
    entry = _write(tmp_path, name="pima2", reference=other)
    readme = (entry / "README.md").read_text()
    assert "| Our protocol matches | no |" in readme
    assert "does not match the reference protocol" in readme


@pytest.mark.parametrize(
    "reference, expected",
    [
        ("10-fold cross-validation", True),
        ("repeated stratified 10-fold CV, 3 repeats", True),
        ("5-fold cross-validation", False),
        ("70/30 train/test split", False),
        ("walk-forward validation over the last 12 months", False),
        ("", None),
        ("as published", None),
    ],
)
def test_protocol_match(reference, expected):
    ours = {"name": "repeated stratified k-fold", "folds": 10, "repeats": 3}
    assert protocol_match(ours, reference) is expected
    walk = {"name": "walk-forward validation", "test_size": 12}
    if reference.startswith("walk-forward"):
        assert protocol_match(walk, reference) is True


def test_html_is_self_contained(tmp_path):
    png = (_write(tmp_path, name="probe") / "figures" / "scores.png").read_bytes()
    extra = Section("kind", "Of the kind", (Figure("confusion", "Confusion matrix", png),))
    entry = _write(tmp_path, reference=REFERENCE, extra_sections=[extra])
    html = (entry / "report.html").read_text()
    parser = _Resources()
    parser.feed(html)
    assert "script" not in parser.tags
    assert "link" not in parser.tags and "iframe" not in parser.tags
    images = [url for tag, key, url in parser.urls if tag == "img"]
    assert len(images) >= 3  # scores, views, cost + the extra figure
    assert all(url.startswith("data:image/png;base64,") for url in images)
    for _tag, _key, url in parser.urls:
        assert not url.lower().startswith(("http://", "https://", "//")), url
    assert "url(" not in html and "@import" not in html
    assert "Confusion matrix" in html
    assert (entry / "figures" / "confusion.png").read_bytes() == png
    # same content as the README
    assert "Fold scores per algorithm" in html and "Lessons learned" in html
    assert "dlrun predict portfolio/pima --data new.csv --out predictions.csv" in html


def test_everything_from_the_data_is_escaped(tmp_path):
    spec = _spec(description=f"Diabetes {MALICIOUS} & more &amp; [click](javascript:alert(4))")
    data = {**DATA, "classes": {"<img src=x onerror=alert(2)>": 500, "b|c": 268}}
    leaderboard = _leaderboard(error="boom <iframe src=javascript:alert(3)>")
    hostile = "<b>x</b>|*y*"  # an algorithm name a plugin could choose
    leaderboard["rows"][2]["algorithm"] = hostile
    section = Section("kind", "Notes " + MALICIOUS, (
        Paragraph(text("Some *markdown* and raw ", MALICIOUS, " ", Strong("<i>bold</i>"))),
        Paragraph(text(Link("a link", "javascript:alert(5)"), " ", Link("ok", "https://example.org/a b"))),
        Table(("col|umn", "value"), (("a|b", "<u>c</u>"),)),
        CodeBlock("x <- 1"),
    ))
    entry = _write(tmp_path, spec=spec, leaderboard=leaderboard, data_summary=data,
                   extra_sections=[section])
    html = (entry / "report.html").read_text()
    assert MALICIOUS not in html
    assert "<img src=x" not in html and "<iframe" not in html and "<b>x</b>" not in html
    assert "<i>bold</i>" not in html and "<u>c</u>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;|*y*" in html  # the hostile name, shown as written
    assert "Some *markdown* and raw" in html and "<em>" not in html  # blocks hold plain text
    assert "<strong>&lt;i&gt;bold&lt;/i&gt;</strong>" in html  # the only markup: typed spans
    assert "javascript:" not in html.replace("src=javascript:alert(3)", "").replace(
        "(javascript:alert(4))", "")  # never a link target
    assert 'href="https://example.org/a%20b"' in html
    assert "&amp;amp;" in html  # an entity in the data is shown, not decoded
    parser = _Resources()
    parser.feed(html)
    assert "script" not in parser.tags and "iframe" not in parser.tags
    assert not [url for _t, _k, url in parser.urls if url.lower().startswith("javascript")]

    readme = (entry / "README.md").read_text()
    assert "<script>" not in readme and "<img" not in readme and "<iframe" not in readme
    assert "<b>" not in readme and "<i>" not in readme and "<u>" not in readme
    assert "&lt;script>alert(1)&lt;/script>" in readme  # renders as text on a git host
    assert "&lt;img src=x onerror=alert(2)>: 500" in readme
    assert "b\\|c: 268" in readme  # pipes cannot break the table
    assert "| a\\|b | &lt;u>c&lt;/u> |" in readme and "| col\\|umn | value |" in readme
    assert "&lt;b>x&lt;/b>\\|\\*y\\*" in readme  # the hostile name in the leaderboard table
    assert "Some \\*markdown\\* and raw" in readme  # Markdown from the data is not Markdown
    assert "&amp;amp;" in readme  # nor are its entities
    assert "\\[click\\](javascript:alert(4))" in readme  # no link
    assert not re.search(r"(?<!\\)\]\(javascript:", readme) and "a link" in readme
    assert "[ok](https://example.org/a%20b)" in readme
    assert "```\nx <- 1\n```" in readme  # code stays literal
    assert "x &lt;- 1" in html


def test_lessons_come_from_the_leaderboard():
    lessons = derive_lessons(_leaderboard())
    text = "\n".join(lessons)
    assert "no significant difference from the best" in text and "svm (standardize)" in text
    deep = next(s for s in lessons if s.startswith("The best deep net"))
    assert "mlp (standardize)" in deep and "the bar, xgboost (raw)" in deep
    scaling = next(s for s in lessons if s.startswith("Scaling the inputs helped significantly"))
    assert "svm" in scaling and "p < 0.001" in scaling
    assert any("failed" in s and "svm on power" in s for s in lessons)
    assert any("Every algorithm beat the naive baseline" in s for s in lessons)

    lb = _leaderboard()
    lb["rows"] = [r for r in lb["rows"] if r["algorithm"] not in ("mlp",)]
    assert not any(s.startswith("The best deep net") for s in derive_lessons(lb))
    assert any("No deep net was evaluated" in s for s in derive_lessons(lb))


def test_the_report_has_no_t_test_of_its_own():
    """Every p-value of the report comes from dlrun.evaluation.stats (tests/test_report_stats.py
    checks they equal the leaderboard's)."""
    import dlrun.report

    folder = Path(dlrun.report.__file__).parent
    for path in folder.glob("*.py"):
        source = path.read_text()
        for needle in ("stdtr", "scipy", "def corrected", "sqrt((1.0 / n"):
            assert needle not in source, f"{path.name} computes a statistic itself ({needle})"


def test_regression_lower_is_better(tmp_path):
    lb = _leaderboard()
    lb.update(metric="rmse", metric_label="RMSE", greater_is_better=False, task="regression")
    for r in lb["rows"]:
        r["scores"] = [round(10 * (1 - s), 4) for s in r["scores"]]
        r["mean"], r["std"] = statistics.fmean(r["scores"]), statistics.stdev(r["scores"])
    lb["rows"].sort(key=lambda r: r["mean"])
    spec = _spec(task="regression", metric="rmse")
    entry = _write(tmp_path, spec=spec, leaderboard=lb, data_summary={**DATA, "classes": None})
    readme = (entry / "README.md").read_text()
    best, baseline = lb["rows"][0], lb["rows"][-1]
    assert "(lower is better)" in readme
    assert f"by {baseline['mean'] - best['mean']:.2f} RMSE" in readme
    results = json.loads((entry / "results.json").read_text())
    assert results["summary"]["margins"]["over_baseline"] == pytest.approx(
        baseline["mean"] - best["mean"]
    )


def test_rewrite_replaces_stale_figures(tmp_path):
    old = Section("kind", "Of the kind", (Figure("Old figure", "Old figure", b"\x89PNG old"),))
    entry = _write(tmp_path, extra_sections=[old])
    assert (entry / "figures" / "old-figure.png").exists()
    _write(tmp_path)
    assert not (entry / "figures" / "old-figure.png").exists()
    assert (entry / "figures" / "scores.png").exists()


def test_refresh_index_lists_entries_and_skips_broken(tmp_path):
    _write(tmp_path, name="zeta", reference=REFERENCE)
    _write(tmp_path, name="alpha", spec=_spec(name="alpha", description=MALICIOUS))
    portfolio = tmp_path / "portfolio"
    (portfolio / "broken").mkdir()
    (portfolio / "broken" / "results.json").write_text("{not json")
    (portfolio / "unfinished").mkdir()  # no results.json: not an entry yet
    refresh_index(portfolio)

    index_md = (portfolio / "index.md").read_text()
    assert index_md.index("[alpha](alpha/README.md)") < index_md.index("[zeta](zeta/README.md)")
    assert "(zeta/report.html)" in index_md
    zeta = next(line for line in index_md.splitlines() if line.startswith("| [zeta]"))
    best = _leaderboard()["rows"][0]
    assert f"linear (standardize) | {best['mean']:.3f} ± {best['std']:.3f}" in zeta
    assert "| 0.771 |" in zeta  # reference good score
    assert "| classification | accuracy |" in zeta
    assert "Skipped broken/" in index_md and "not valid JSON" in index_md
    assert "unfinished" not in index_md

    index_html = (portfolio / "index.html").read_text()
    assert 'href="alpha/report.html"' in index_html and 'href="zeta/report.html"' in index_html
    assert MALICIOUS not in index_html and "&lt;script&gt;" in index_html
    assert "Skipped broken/" in index_html
    parser = _Resources()
    parser.feed(index_html)
    assert all(not url.startswith(("http://", "https://")) for _t, _k, url in parser.urls)


def test_refresh_index_on_empty_portfolio(tmp_path):
    refresh_index(tmp_path / "portfolio")
    assert "No finished entries yet" in (tmp_path / "portfolio" / "index.md").read_text()


def test_importing_report_does_not_import_matplotlib_or_jinja():
    code = (
        "import sys, dlrun.report, dlrun.report.entry, dlrun.report.portfolio, dlrun.report.plots, "
        "dlrun.report.sections, dlrun.report.to_html, dlrun.report.to_markdown; "
        "heavy = [m for m in ('matplotlib', 'jinja2', 'tensorflow') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_protocol_match_reads_sklearn_style_reference():
    ref = "RepeatedStratifiedKFold(n_splits=10, n_repeats=3, random_state=1)"
    assert protocol_match({"name": "repeated stratified k-fold", "folds": 10, "repeats": 3}, ref)
    assert protocol_match({"name": "repeated stratified k-fold", "folds": 5, "repeats": 1}, ref) is False
