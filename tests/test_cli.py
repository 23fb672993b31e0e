"""The command line as a user meets it: exit codes, messages, JSON purity, start-up."""

import json
import subprocess
import sys
from pathlib import Path

import click
import pandas as pd
from click.testing import CliRunner

from dlrun.cli import main
from tests.helpers import classification_csv, write_project

FAST = {"evaluation": {"folds": 3, "repeats": 1, "seed": 1}}


def dlrun(*args, cwd=None, check=True):
    """Run the installed console script in a fresh process (real stdout/stderr, real imports)."""
    exe = Path(sys.executable).with_name("dlrun")
    result = subprocess.run([str(exe), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                            timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"dlrun {' '.join(map(str, args))} -> {result.returncode}\n{result.stderr}")
    return result


def test_help_lists_the_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    # the names in the "Commands:" section, not words of the group's docstring
    listed = result.output.split("Commands:", 1)[1].split()
    commands = {word for word in listed if word in main.commands}
    assert {"new", "validate", "evaluate", "report", "run", "predict", "predictions", "schema",
            "catalogue"} <= commands
    for name in commands:
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0


def test_start_up_paths_never_import_heavy_libraries(tmp_path):
    csv = classification_csv(tmp_path / "data.csv")
    code = f"""
import sys
import click
from click.testing import CliRunner
from dlrun.cli import main
runner = CliRunner()
for args in (["--help"], ["new", "p", "--data", {str(csv)!r}, "--dir", {str(tmp_path)!r}],
             ["validate", {str(tmp_path / "p")!r}], ["schema"]):
    result = runner.invoke(main, args)
    assert result.exit_code == 0, (args, result.output)
    if args[0] in ("--help", "new"):  # these must not even load pandas / numpy
        early = [m for m in ("pandas", "numpy", "sklearn", "pydantic") if m in sys.modules]
        assert not early, (args, early)
heavy = [m for m in ("tensorflow", "keras", "xgboost", "matplotlib", "torch") if m in sys.modules]
print(",".join(heavy))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_bad_spec_exits_2_naming_the_field_without_traceback(tmp_path):
    project = write_project(tmp_path, "bad", {"source": "x.csv", "target": "y"}, metric="rmse")
    result = dlrun("validate", project, check=False)
    assert result.returncode == 2
    assert "metric:" in result.stderr and "Traceback" not in result.stderr


def test_missing_data_file_exits_2_naming_data_source(tmp_path):
    project = write_project(tmp_path, "nodata", {"source": "missing.csv", "target": "y"})
    result = CliRunner().invoke(main, ["evaluate", str(project)])
    assert result.exit_code == 2 and "data.source" in result.output


def test_unknown_target_column_exits_2_listing_columns(tmp_path):
    csv = classification_csv(tmp_path / "data.csv")
    project = write_project(tmp_path, "p", {"source": str(csv), "target": "labl"})
    result = CliRunner().invoke(main, ["validate", str(project)])
    assert result.exit_code == 2
    assert "data.target" in result.output and "label" in result.output


def test_bad_option_value_exits_2(tmp_path):
    csv = classification_csv(tmp_path / "data.csv")
    project = write_project(tmp_path, "p", {"source": str(csv), "target": "label"}, **FAST)
    result = CliRunner().invoke(main, ["evaluate", str(project), "--only", "nosuchalgo"])
    assert result.exit_code == 2 and "--only" in result.output
    result = CliRunner().invoke(main, ["evaluate", str(project), "--backend", "spark"])
    assert result.exit_code == 2


def test_new_never_overwrites(tmp_path):
    csv = classification_csv(tmp_path / "data.csv")
    args = ["new", "p", "--data", str(csv), "--dir", str(tmp_path / "projects")]
    assert CliRunner().invoke(main, args).exit_code == 0
    before = (tmp_path / "projects" / "p" / "project.yaml").read_text()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert (tmp_path / "projects" / "p" / "project.yaml").read_text() == before


def test_evaluate_json_report_predict_end_to_end(tmp_path):
    csv = classification_csv(tmp_path / "data.csv")
    dlrun("new", "shop", "--data", csv, "--dir", tmp_path / "projects")
    project = tmp_path / "projects" / "shop"
    result = dlrun("evaluate", project, "--quick", "--only", "baseline,linear,cart", "--json")
    board = json.loads(result.stdout)  # stdout holds the JSON and nothing else
    assert {"project", "task", "metric", "greater_is_better", "rows", "jobs"} <= board.keys()
    assert board["project"] == "shop" and board["rows"][0]["algorithm"] != "baseline"
    row = board["rows"][0]
    assert {"algorithm", "view", "mean", "std", "scores", "fit_seconds", "same_as_best"} <= row.keys()

    portfolio = tmp_path / "portfolio"
    dlrun("report", project, "--portfolio", portfolio)
    entry = portfolio / "shop"
    for name in ("README.md", "report.html", "results.json", "model/pipeline.skops",
                 "model/manifest.json"):
        assert (entry / name).is_file(), name

    # the stored out-of-fold predictions reproduce every fold score of a candidate
    out = tmp_path / "oof.csv"
    dlrun("predictions", project, "--candidate", f"{row['algorithm']}/{row['view']}", "--out", out)
    oof = pd.read_csv(out)
    assert list(oof.columns[:5]) == ["row", "repeat", "fold", "y_true", "y_pred"]
    assert {"p_no", "p_yes"} <= set(oof.columns) and len(oof) == 150  # each row once (5 x 1)
    per_fold = oof.groupby(["repeat", "fold"]).apply(lambda f: (f.y_true == f.y_pred).mean())
    assert per_fold.round(6).tolist() == [round(s, 6) for s in row["scores"]]
    assert (portfolio / "index.md").is_file() and "shop" in (portfolio / "index.md").read_text()

    frame = pd.read_csv(csv).drop(columns=["label"])
    frame.to_csv(tmp_path / "new.csv", index=False)
    dlrun("predict", entry, "--data", tmp_path / "new.csv", "--out", tmp_path / "pred.csv")
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert len(pred) == len(frame)
    assert set(pred["prediction"]) <= {"yes", "no"}  # original labels, not codes
    truth = pd.read_csv(csv)["label"]
    assert (pred["prediction"] == truth).mean() > 0.8

    bad = frame.drop(columns=["x2"])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    result = dlrun("predict", entry, "--data", tmp_path / "bad.csv", check=False)
    assert result.returncode == 2 and "x2" in result.stderr and "Traceback" not in result.stderr


def test_report_and_predict_start_tensorflow_only_for_a_net(tmp_path):
    """One TensorFlow start per command, and none when no net is involved: evaluating,
    reporting and predicting with classical candidates never imports it."""
    csv = classification_csv(tmp_path / "data.csv")
    project = write_project(tmp_path, "p", {"source": str(csv), "target": "label"},
                            evaluation={"folds": 3, "repeats": 1, "seed": 1}, views=["standardize"],
                            algorithms=["baseline", "linear", "knn"])
    new = tmp_path / "new.csv"
    new.write_text("\n".join(csv.read_text().splitlines()[:6]).replace(",yes", "").replace(",no", "") + "\n")
    code = f"""
import sys
from dlrun import api
api.evaluate({str(project)!r})
entry = api.report({str(project)!r}, portfolio={str(tmp_path / "portfolio")!r})
frame = api.predict(entry, {str(new)!r}, {str(tmp_path / "out.csv")!r})
assert len(frame) == 5, frame
print(",".join(m for m in ("tensorflow", "keras") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1:] in ([], [""])


def test_every_command_help_has_an_example_and_every_option_help():
    for name, command in main.commands.items():
        text = CliRunner().invoke(main, [name, "--help"]).output
        assert "Example" in text, name
        # each example line is a dlrun command line
        examples = text.split("Example", 1)[1].split("Options:", 1)[0].splitlines()[1:]
        assert any(line.strip().startswith(("dlrun ", "cat ")) for line in examples), name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts[-1]} has no help"


def test_catalogue_columns_are_aligned():
    result = CliRunner().invoke(main, ["catalogue"])
    assert result.exit_code == 0
    blocks, block = [], []
    for line in result.output.splitlines():
        if not line.startswith("  "):  # a block's title
            if block:
                blocks.append(block)
            block = []
        else:
            block.append(line)
    blocks.append(block)
    assert len(blocks) == 4  # kinds, algorithms, views, metrics
    for lines in blocks:
        # the second column starts at the same place on every line of a block
        starts = {len(line) - len(line[2:].split(None, 1)[1]) if len(line[2:].split(None, 1)) > 1
                  else None for line in lines}
        assert len(starts) == 1 and None not in starts, lines


def test_tracking_options_take_an_optional_uri(monkeypatch):
    from dlrun import api

    seen = []

    def fake(project, **kwargs):
        seen.append((kwargs["mlflow"], kwargs["tensorboard"]))
        return {"rows": [{"algorithm": "a"}]}

    monkeypatch.setattr(api, "evaluate", fake)
    for args, expected in {("--mlflow", "--json"): ("", None),
                           ("--json", "--mlflow"): ("", None),
                           ("--mlflow", "sqlite:///x.db", "--json"): ("sqlite:///x.db", None),
                           ("--tensorboard", "tb", "--json"): (None, "tb"),
                           ("--json",): (None, None)}.items():
        result = CliRunner().invoke(main, ["evaluate", "p", *args])
        assert result.exit_code == 0, (args, result.output)
        assert seen[-1] == expected, args
