"""`dlrun predict` on what users have: a header row or not, columns in any order, identifier
columns passed through, standard input and output, probabilities at full precision."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from dlrun import api
from dlrun.cli import main
from dlrun.errors import BadInput
from tests.helpers import classification_csv, write_project

COLUMNS = ["x1", "x2", "colour", "label"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An entry trained on a CSV *without* a header row (names given in the spec, as for
    Pima), and the training rows as a frame of text cells."""
    root = tmp_path_factory.mktemp("predict")
    with_header = classification_csv(root / "with-header.csv", n=120)
    lines = with_header.read_text().splitlines()[1:]
    (root / "train.csv").write_text("\n".join(lines) + "\n")
    project = write_project(root, "shop", {"source": "../train.csv", "header": False,
                                           "columns": COLUMNS, "target": "label"},
                            evaluation={"folds": 3, "repeats": 1, "seed": 1})
    api.evaluate(project, only=["linear"])
    entry = api.report(project, portfolio=root / "portfolio")
    rows = pd.read_csv(root / "train.csv", header=None, names=COLUMNS, dtype=str,
                       keep_default_na=False).head(12)
    return entry, rows, root


def _csv(frame: pd.DataFrame, header: bool = True) -> str:
    return frame.to_csv(index=False, header=header)


def _reference(entry, rows, root) -> pd.DataFrame:
    """Predictions for the rows as training had them: no header, training order."""
    path = root / "plain.csv"
    path.write_text(_csv(rows, header=False))
    return api.predict(entry, path)


def test_header_row_columns_by_name_and_kept_id_first(trained, tmp_path):
    entry, rows, root = trained
    expected = _reference(entry, rows, root)
    assert list(expected.columns) == ["prediction", "p_no", "p_yes"]
    # a header row, the columns shuffled, the target present, an identifier with leading zeros
    ids = [f"{i:03d}" for i in range(len(rows))]
    shuffled = rows[["label", "colour", "x2", "x1"]].assign(id=ids)[["id", "label", "colour", "x2", "x1"]]
    path = tmp_path / "new.csv"
    path.write_text(_csv(shuffled))
    frame = api.predict(entry, path, keep=["id"])
    assert list(frame.columns) == ["id", "prediction", "p_no", "p_yes"]
    assert len(frame) == len(rows)
    assert frame["id"].tolist() == ids  # as written: "000", not 0
    pd.testing.assert_frame_equal(frame.drop(columns="id"), expected)
    assert frame.attrs["notes"] == []  # the target is ignored silently, id is kept


def test_header_is_detected_with_and_without_the_target(trained, tmp_path):
    entry, rows, root = trained
    expected = _reference(entry, rows, root)
    features = rows.drop(columns="label")
    for name, text in {"header-no-target": _csv(features), "no-header-no-target": _csv(features, False),
                       "header-extra": _csv(rows.assign(note="x"))}.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        frame = api.predict(entry, path)
        pd.testing.assert_frame_equal(frame, expected, obj=name)
        if name == "header-extra":
            assert any("note" in n for n in frame.attrs["notes"])


def test_header_options_override_the_detection(trained, tmp_path):
    entry, rows, _root = trained
    path = tmp_path / "new.csv"
    path.write_text(_csv(rows))
    assert len(api.predict(entry, path, header=True)) == len(rows)
    with pytest.raises(BadInput, match="x1"):  # --no-header: the header row is a data row
        api.predict(entry, path, header=False)
    plain = tmp_path / "plain.csv"
    plain.write_text(_csv(rows, header=False))
    with pytest.raises(BadInput, match="missing"):  # --header: the first data row as names
        api.predict(entry, plain, header=True)


def test_stdin_to_stdout_at_full_precision(trained):
    entry, rows, root = trained
    expected = _reference(entry, rows, root)
    result = CliRunner().invoke(main, ["predict", str(entry), "--data", "-", "--keep", "x1"],
                                input=_csv(rows).encode())
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout), dtype={"x1": str})
    assert list(out.columns) == ["x1", "prediction", "p_no", "p_yes"]
    assert out["x1"].tolist() == rows["x1"].tolist()  # '?' and '0.1234' as written
    # the probabilities come back exactly (shortest round-trip repr), not rounded
    np.testing.assert_array_equal(out[["p_no", "p_yes"]].to_numpy(), expected[["p_no", "p_yes"]].to_numpy())
    proba = out[["p_no", "p_yes"]].to_numpy()
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert not np.array_equal(proba, np.round(proba, 6))


def test_bad_inputs_exit_2_naming_the_option_or_column(trained, tmp_path):
    entry, rows, _root = trained
    whole, short = tmp_path / "whole.csv", tmp_path / "short.csv"
    whole.write_text(_csv(rows))
    short.write_text(_csv(rows.drop(columns="x2")))
    cases = {
        (whole, "--keep", "id"): ("--keep", "id"),  # no such column
        (short,): ("x2", "missing"),  # a feature column absent from a file with a header
    }
    for (path, *extra), words in cases.items():
        result = CliRunner().invoke(main, ["predict", str(entry), "--data", str(path), *extra])
        assert result.exit_code == 2, result.output
        assert all(w in result.output for w in words), result.output
        assert "Traceback" not in result.output
    other = tmp_path / "other.csv"
    other.write_text("a,b,c\n1,2,3\n4,5,6\n")  # a header of other names
    result = CliRunner().invoke(main, ["predict", str(entry), "--data", str(other)])
    assert result.exit_code == 2 and "--no-header" in result.output
    clash = tmp_path / "clash.csv"
    clash.write_text(_csv(rows.assign(prediction="old")))
    result = CliRunner().invoke(main, ["predict", str(entry), "--data", str(clash), "--keep", "prediction"])
    assert result.exit_code == 2 and "--keep" in result.output and "clash" in result.output


def test_documents_in_a_table_keep_their_id(tmp_path):
    from tests.test_text import corpus, make_project, write_csv

    project = make_project(tmp_path, write_csv(tmp_path / "reviews.csv", n=60), "reviews")
    api.evaluate(project, only=["naive_bayes"])
    entry = api.report(project, portfolio=tmp_path / "pf")
    docs, labels = corpus(9, 7)
    new = tmp_path / "new.csv"
    pd.DataFrame({"ref": [f"r{i:02d}" for i in range(9)], "review": docs}).to_csv(new, index=False)
    frame = api.predict(entry, new, keep=["ref"])
    assert list(frame.columns[:2]) == ["ref", "prediction"] and len(frame) == 9
    assert frame["ref"].tolist() == [f"r{i:02d}" for i in range(9)]
    assert (frame["prediction"] == labels).mean() > 0.6
    with pytest.raises(BadInput, match="--keep"):
        api.predict(entry, new, keep=["nope"])
    with pytest.raises(BadInput, match="--header"):  # an option for tables only
        api.predict(entry, new, header=True)


@pytest.mark.slow
def test_pima_rows_with_a_header_and_an_id(shared_file, tmp_path):
    """The issue's check, as a user: Pima has no header row; new rows come with one, and an id."""
    pima = shared_file("pima-indians-diabetes.csv")
    runner = CliRunner()
    args = ["new", "pima", "--data", str(pima), "--no-header", "--dir", str(tmp_path)]
    assert runner.invoke(main, args).exit_code == 0
    project = tmp_path / "pima"
    assert runner.invoke(main, ["evaluate", str(project), "--quick", "--only", "linear"]).exit_code == 0
    result = runner.invoke(main, ["report", str(project), "--portfolio", str(tmp_path / "pf")])
    assert result.exit_code == 0, result.output
    columns = ["pregnancies", "glucose", "blood_pressure", "skin_thickness", "insulin", "bmi",
               "pedigree", "age", "diabetes"]
    rows = pd.read_csv(pima, header=None, names=columns).head(20)
    new = tmp_path / "new.csv"
    rows.assign(id=[f"p{i}" for i in range(20)])[["id", *columns]].to_csv(new, index=False)
    result = runner.invoke(main, ["predict", str(tmp_path / "pf" / "pima"), "--data", str(new),
                                  "--keep", "id"])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert list(out.columns) == ["id", "prediction", "p_0", "p_1"] and len(out) == 20
    assert out["id"].tolist() == [f"p{i}" for i in range(20)]
    assert (out["prediction"] == rows["diabetes"]).mean() > 0.6


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_an_entry_whose_winner_is_the_tabular_mlp_is_written_and_predicts(tmp_path, task):
    """The tabular MLP has no native .keras form: the report saves it in the safe model file
    alone, and predict uses it (a report whose winner it was used to fail on saving)."""
    from tests.helpers import regression_csv

    make = classification_csv if task == "classification" else regression_csv
    data = make(tmp_path / "data.csv", n=90)
    target = "label" if task == "classification" else "y"
    if task == "regression":
        target = pd.read_csv(data).columns[-1]
    project = write_project(tmp_path, "net", {"source": "../data.csv", "target": target},
                            task=task, metric="accuracy" if task == "classification" else "mae",
                            views=["raw"], evaluation={"folds": 2, "repeats": 1, "seed": 1},
                            params={"mlp": {"epochs": 3, "members": 2}})
    api.evaluate(project, only=["mlp"])
    entry = api.report(project, portfolio=tmp_path / "portfolio")
    assert (entry / "model").is_dir() and not (entry / "model" / "net.keras").exists()
    new = pd.read_csv(data).drop(columns=[target]).head(7)
    new.to_csv(tmp_path / "new.csv", index=False)
    predicted = api.predict(entry, tmp_path / "new.csv", tmp_path / "out.csv")
    assert len(predicted) == 7
    if task == "classification":
        probabilities = predicted[[c for c in predicted.columns if c.startswith("p_")]]
        assert np.allclose(probabilities.sum(axis=1), 1.0)
    else:
        assert np.isfinite(predicted["prediction"].astype(float)).all()
