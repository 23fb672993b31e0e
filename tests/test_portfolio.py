"""The portfolio: every report kept as a dated run, the entry linking the earlier ones,
`dlrun portfolio` refreshing a sortable index with protocol and lifts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlrun import api
from dlrun.cli import main
from dlrun.report.portfolio import SORT_SCRIPT, refresh_index
from tests.helpers import classification_csv, write_project

REFERENCE = {"dataset": "synthetic", "metric": "accuracy", "naive": 0.5, "good": 0.8}


@pytest.fixture(scope="module")
def reported_twice(tmp_path_factory):
    root = tmp_path_factory.mktemp("portfolio")
    csv = classification_csv(root / "data.csv", n=120)
    project = write_project(root, "shop", {"source": str(csv), "target": "label"},
                            evaluation={"folds": 3, "repeats": 1, "seed": 1}, reference=REFERENCE)
    api.evaluate(project, only=["baseline", "linear"])
    portfolio = root / "portfolio"
    entry = api.report(project, portfolio=portfolio)
    first = json.loads((entry / "results.json").read_text())
    api.report(project, portfolio=portfolio)
    return portfolio, entry, first


def test_reporting_twice_keeps_both_runs_and_links_the_earlier(reported_twice):
    portfolio, entry, first = reported_twice
    runs = sorted(p.name for p in (entry / "runs").iterdir())
    assert len(runs) == 2
    earlier, latest = runs  # ids are UTC times: they sort as they were made
    assert first["run"] == earlier
    document = json.loads((entry / "results.json").read_text())
    assert document["run"] == latest
    assert [r["run"] for r in document["runs"]] == [latest, earlier]  # newest first
    assert all(r["score"] and r["protocol"] == "3×1 CV · subset" for r in document["runs"])
    readme = (entry / "README.md").read_text()
    runs_section = readme.split("## Runs", 1)[1]
    assert f"(runs/{earlier}/README.md)" in runs_section and f"(runs/{latest}/README.md)" in runs_section
    assert document["runs"][1]["score"] in runs_section  # the earlier run with its score
    html = (entry / "report.html").read_text()
    assert f'href="runs/{earlier}/report.html"' in html
    for run in runs:  # each run whole: its pages, its results and the model it saved
        kept = entry / "runs" / run
        assert {"README.md", "report.html", "results.json"} <= {p.name for p in kept.iterdir()}
        assert (kept / "model" / "manifest.json").is_file()
    old = (entry / "runs" / earlier / "README.md").read_text()
    assert "(../../README.md)" in old  # the kept page points at the latest


def test_an_earlier_run_still_predicts(reported_twice, tmp_path):
    _portfolio, entry, first = reported_twice
    rows = tmp_path / "rows.csv"
    rows.write_text("x1,x2,colour\n0.5,0.1,red\n-1.2,0.3,blue\n")
    latest = api.predict(entry, rows)
    earlier = api.predict(entry / "runs" / first["run"], rows)
    assert len(earlier) == 2 and earlier.equals(latest)  # the same recipe, the same data


def test_portfolio_command_refreshes_the_index(reported_twice):
    portfolio, _entry, _first = reported_twice
    (portfolio / "index.md").unlink()
    (portfolio / "index.html").write_text("stale")
    broken = portfolio / "broken"
    broken.mkdir(exist_ok=True)
    (broken / "results.json").write_text("{not json")
    try:
        result = CliRunner().invoke(main, ["portfolio", str(portfolio)])
        assert result.exit_code == 0, result.output
        header, row = result.stdout.splitlines()[:2]
        assert header.split()[:3] == ["project", "best", "model"]
        assert row.split()[0] == "shop" and " 2 " in row  # two runs
        index = (portfolio / "index.md").read_text()
        assert "shop" in index and "Skipped broken/" in index
        page = (portfolio / "index.html").read_text()
        assert page != "stale" and "aria-sort" in page
        assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?:""", page)  # self-contained
        data = json.loads(CliRunner().invoke(main, ["portfolio", str(portfolio), "--json"]).stdout)
        (shop,) = data["entries"]
        assert shop["runs"] == 2 and shop["protocol"] == "3×1 CV · subset"
        assert shop["over_baseline"].startswith("+") and shop["reference_good"] == "0.800"
        assert re.match(r"[+-]\d", shop["over_reference"])
    finally:
        shutil.rmtree(broken)


def test_portfolio_of_a_missing_folder_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["portfolio", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "DIR" in result.output and "Traceback" not in result.output
    (tmp_path / "file").write_text("x")
    assert CliRunner().invoke(main, ["portfolio", str(tmp_path / "file")]).exit_code == 2


# --------------------------------------------------------------------------- sorting the index


def _entry(folder: Path, name: str, mean: float | None, margin: float | None) -> None:
    best = {} if mean is None else {"algorithm": "linear", "view": "raw", "mean": mean, "std": 0.01}
    document = {"project": {"name": name, "task": "classification", "metric": "accuracy"},
                "summary": {"best": best, "margins": {"over_baseline": margin}},
                "leaderboard": {"protocol": {"name": "repeated_kfold", "folds": 5, "repeats": 2}},
                "created": "2024-05-01T12:00:00Z"}
    (folder / name).mkdir(parents=True)
    (folder / name / "results.json").write_text(json.dumps(document))


class _Table(HTMLParser):
    """The index table's heading and cell texts."""

    def __init__(self):
        super().__init__()
        self.heads, self.rows, self._cell, self._in = [], [], None, None

    def handle_starttag(self, tag, attrs):
        if tag in ("th", "td"):
            self._cell = ""
        elif tag in ("thead", "tbody"):
            self._in = tag
        elif tag == "tr" and self._in == "tbody":
            self.rows.append([])

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            (self.heads if tag == "th" else self.rows[-1]).append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


#: A DOM just large enough for the sort script: a table, its rows and cells, clicks.
HARNESS = r"""
const spec = JSON.parse(require("fs").readFileSync(0, "utf8"));
function cell(text) {
  const attrs = {};
  return {textContent: text, title: "", listeners: [],
          getAttribute: (k) => (k in attrs ? attrs[k] : null),
          setAttribute: (k, v) => { attrs[k] = String(v); },
          removeAttribute: (k) => { delete attrs[k]; },
          addEventListener(type, fn) { this.listeners.push(fn); }};
}
const heads = spec.heads.map(cell);
const body = {rows: spec.rows.map((r) => ({cells: r.map(cell)})),
              appendChild(row) { this.rows.splice(this.rows.indexOf(row), 1); this.rows.push(row); }};
const table = {tHead: {rows: [{cells: heads}]}, tBodies: [body]};
global.document = {querySelector: (q) => (q === "#projects table" ? table : null)};
eval(spec.script);
const out = [];
for (const column of spec.clicks) {
  heads[column].listeners.forEach((fn) => fn());
  out.push({sort: heads[column].getAttribute("aria-sort"),
            order: body.rows.map((r) => r.cells[0].textContent)});
}
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the index's script")
def test_index_sorts_by_any_column(tmp_path):
    _entry(tmp_path, "alpha", 0.70, 0.05)
    _entry(tmp_path, "beta", 0.90, -0.02)
    _entry(tmp_path, "gamma", None, None)  # no score: empty cells stay last
    _entry(tmp_path, "delta", 0.80, 0.10)
    refresh_index(tmp_path)
    page = (tmp_path / "index.html").read_text()
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    assert script.strip() in SORT_SCRIPT
    table = _Table()
    table.feed(page.split('<section id="projects">', 1)[1].split("</table>", 1)[0])
    score, margin, name = (table.heads.index(h) for h in ("score", "over baseline", "project"))
    clicks = [score, score, margin, name, name]
    spec = {"heads": table.heads, "rows": [r for r in table.rows if r], "script": script, "clicks": clicks}
    out = subprocess.run(["node", "-e", HARNESS], input=json.dumps(spec), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [r["sort"] for r in result] == ["ascending", "descending", "ascending", "ascending", "descending"]
    assert result[0]["order"] == ["alpha", "delta", "beta", "gamma"]
    assert result[1]["order"] == ["beta", "delta", "alpha", "gamma"]
    assert result[2]["order"] == ["beta", "alpha", "delta", "gamma"]  # -0.020 < +0.050 < +0.100
    assert result[3]["order"] == ["alpha", "beta", "delta", "gamma"]
    assert result[4]["order"] == ["gamma", "delta", "beta", "alpha"]


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium installed (chromium, chromium-browser "
                    "or google-chrome on PATH): the node check above runs the same script")
def test_index_sorts_in_headless_chromium(tmp_path):
    _entry(tmp_path, "alpha", 0.70, 0.05)
    _entry(tmp_path, "beta", 0.90, -0.02)
    _entry(tmp_path, "gamma", None, None)
    refresh_index(tmp_path)
    page = (tmp_path / "index.html").read_text()
    # after the page's own script: click "score" twice, write each order into the page
    probe = """<script>window.addEventListener('load', () => {
  const table = document.querySelector('#projects table');
  const heads = [...table.tHead.rows[0].cells];
  const score = heads.find((h) => h.textContent.trim() === 'score');
  const order = () => [...table.tBodies[0].rows].map((r) => r.cells[0].textContent.trim()).join(',');
  score.click(); const first = order(); score.click();
  document.documentElement.setAttribute('data-order', first + '|' + order());
});</script>"""
    probed = tmp_path / "probe.html"
    probed.write_text(page.replace("</body>", probe + "</body>"))
    out = subprocess.run([BROWSER, "--headless", "--disable-gpu", "--no-sandbox",
                          "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    found = re.search(r'data-order="([^"]*)"', out.stdout)
    assert found, out.stdout[-2000:]
    first, second = (part.split(",") for part in found.group(1).split("|"))
    assert [n.split()[0] for n in first] == ["alpha", "beta", "gamma"]
    assert [n.split()[0] for n in second] == ["beta", "alpha", "gamma"]
