"""load_dataset and the standard-dataset recognition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlrun.data import load_dataset
from dlrun.data.sniff import sniff_csv
from dlrun.data.standard import catalogue, checksum, match, recognize, recognize_sklearn
from dlrun.errors import BadInput, DataError
from dlrun.spec import parse_spec


def make_spec(source, target, task="classification", **data):
    metric = "accuracy" if task == "classification" else "mae"
    return parse_spec({
        "name": "t", "task": task, "metric": metric,
        "data": {"source": str(source), "target": target, **data},
    })


def spec_from_sniff(path: Path, task: str, target: str | None = None):
    info = sniff_csv(path)
    data = {"header": info.header, "delimiter": info.delimiter,
            "missing": info.missing or ["?", "NA", ""]}
    if not info.header:
        data["columns"] = info.columns
    return make_spec(path, target or info.columns[-1], task, **data)


SEMICOLON = (
    'age;"income";city;label\n'
    '31;1200.5;"Paris";"yes"\n'
    '?;900;" Lyon";"no"\n'
    '45;NA;"Nice, Sud";"yes"\n'
    '52;;Paris;"no"\n'
    '28;1500;Lyon;" yes "\n'
    '33;1100;Lyon;\n'
)


# --------------------------------------------------------------------------- reading


def test_semicolon_file_with_quotes_and_markers(tmp_csv, tmp_path):
    tmp_csv(SEMICOLON)
    spec = make_spec("data.csv", "label", delimiter=";", missing=["?", "NA", ""])
    ds = load_dataset(spec, tmp_path)
    assert ds.n_rows == 5  # the row without a label is dropped ...
    assert any("missing target" in w for w in ds.meta["warnings"])  # ... and reported
    assert ds.meta["dropped_rows"] == 1
    assert ds.numeric == ["age", "income"]
    assert ds.categorical == ["city"]
    assert ds.X["age"].dtype == np.float64
    assert ds.X["age"].isna().sum() == 1
    assert ds.X["income"].isna().sum() == 2
    assert ds.X["city"].dtype == object
    assert set(ds.X["city"]) == {"Paris", "Lyon", "Nice, Sud"}
    assert ds.classes == ["no", "yes"]  # quotes and blanks gone
    assert ds.meta["n_missing"] == {"age": 1, "income": 2}


def test_pima_numbers_and_integer_labels(shared_file):
    path = shared_file("pima-indians-diabetes.csv")
    ds = load_dataset(spec_from_sniff(path, "classification"), path.parent)
    assert ds.X.shape == (768, 8)
    assert (ds.X.dtypes == np.float64).all()
    assert ds.classes == [0, 1]
    assert ds.y.dtype == np.int64
    assert list(ds.encoded_target()[:3]) == [1, 0, 1]


def test_adult_strips_fields_and_reads_question_marks(shared_file):
    path = shared_file("adult-train.csv")
    ds = load_dataset(spec_from_sniff(path, "classification"), path.parent)
    assert ds.n_rows == 32561
    assert ds.X.loc[0, "col1"] == "State-gov"
    assert ds.classes == ["<=50K", ">50K"]
    assert ds.meta["n_missing"]["col1"] == 1836
    assert "col0" in ds.numeric and "col1" in ds.categorical


def test_forced_categorical_and_drop(tmp_csv, tmp_path):
    tmp_csv([["id", "zip", "x", "y"], *[[i, 75000 + i % 3, i * 0.1, i % 2] for i in range(12)]])
    spec = make_spec("data.csv", "y", categorical=["zip"], drop=["id"])
    ds = load_dataset(spec, tmp_path)
    assert list(ds.X.columns) == ["zip", "x"]
    assert ds.categorical == ["zip"] and ds.numeric == ["x"]
    assert ds.X["zip"].iloc[0] == "75000"


def test_mostly_numeric_column_gets_a_warning(tmp_csv, tmp_path):
    rows = [["a", "b"]] + [[i, i % 2] for i in range(30)] + [["n.a.", 1]]
    tmp_csv(rows)
    ds = load_dataset(make_spec("data.csv", "b"), tmp_path)
    assert ds.categorical == ["a"]
    assert any("'n.a.'" in w and "data.missing" in w for w in ds.meta["warnings"])


@pytest.mark.parametrize("marker", ["-", "?", "NA", "null"])
def test_standard_marker_in_a_numeric_column_is_missing_with_a_warning(tmp_csv, tmp_path, marker):
    # e.g. a marker first seen after the rows `dlrun new` sniffed, so not in data.missing
    rows = [["a", "b"]] + [[i, i % 2] for i in range(30)] + [[marker, 1]]
    tmp_csv(rows)
    ds = load_dataset(make_spec("data.csv", "b", missing=[""]), tmp_path)
    assert ds.numeric == ["a"] and ds.X["a"].isna().sum() == 1
    assert ds.meta["n_missing"] == {"a": 1}
    assert any(repr(marker) in w and "data.missing" in w for w in ds.meta["warnings"])


def test_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"x": [1.0, 2.0, None, 4.0], "c": ["a", " b", "?", "a"],
                          "y": [1.5, 2.5, 3.5, 4.5]})
    frame.to_parquet(tmp_path / "d.parquet")
    ds = load_dataset(make_spec("d.parquet", "y", "regression"), tmp_path)
    assert ds.numeric == ["x"] and ds.categorical == ["c"]
    assert ds.X["c"].tolist()[:2] == ["a", "b"] and pd.isna(ds.X["c"].iloc[2])
    assert ds.y.dtype == np.float64


def test_sklearn_source(tmp_path):
    ds = load_dataset(make_spec("sklearn:load_iris", "target"), tmp_path)
    assert ds.X.shape == (150, 4)
    assert ds.classes == [0, 1, 2]
    assert ds.meta["target_names"] == ["setosa", "versicolor", "virginica"]


# --------------------------------------------------------------------------- errors


def test_missing_file_names_data_source(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset(make_spec("nope.csv", "y"), tmp_path)
    assert err.value.field == "data.source"
    assert isinstance(err.value, BadInput) and err.value.exit_code == 2
    assert "nope.csv" in str(err.value)


def test_unknown_target_lists_columns(tmp_csv, tmp_path):
    tmp_csv("a,b,c\n1,2,x\n3,4,y\n")
    with pytest.raises(DataError) as err:
        load_dataset(make_spec("data.csv", "label"), tmp_path)
    assert err.value.field == "data.target"
    assert "'label'" in str(err.value) and "a, b, c" in str(err.value)


def test_columns_length_mismatch(tmp_csv, tmp_path):
    tmp_csv("1,2,x\n3,4,y\n")
    spec = make_spec("data.csv", "c", header=False, columns=["a", "c"])
    with pytest.raises(DataError) as err:
        load_dataset(spec, tmp_path)
    assert err.value.field == "data.columns"
    assert "2 names" in str(err.value) and "3 columns" in str(err.value)


def test_empty_and_header_only_files(tmp_csv, tmp_path):
    tmp_csv("", name="empty.csv")
    with pytest.raises(DataError, match="empty"):
        load_dataset(make_spec("empty.csv", "y"), tmp_path)
    tmp_csv("a,y\n", name="head.csv")
    with pytest.raises(DataError, match="no data rows"):
        load_dataset(make_spec("head.csv", "y"), tmp_path)


def test_unreadable_file(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n1,2,3,4\n")
    with pytest.raises(DataError) as err:
        load_dataset(make_spec("bad.csv", "b"), tmp_path)
    assert err.value.field == "data.delimiter"


def test_regression_target_not_numeric(tmp_csv, tmp_path):
    tmp_csv("x,price\n1,10.5\n2,cheap\n3,12\n")
    with pytest.raises(DataError) as err:
        load_dataset(make_spec("data.csv", "price", "regression"), tmp_path)
    assert err.value.field == "data.target"
    assert "'price'" in str(err.value) and "'cheap'" in str(err.value)


def test_feature_entirely_missing(tmp_csv, tmp_path):
    tmp_csv("x,empty,y\n1,?,a\n2,,b\n3,NA,a\n")
    with pytest.raises(DataError) as err:
        load_dataset(make_spec("data.csv", "y"), tmp_path)
    assert err.value.field == "empty"
    assert "data.drop" in str(err.value)


def test_unknown_drop_column(tmp_csv, tmp_path):
    tmp_csv("x,y\n1,a\n2,b\n")
    with pytest.raises(DataError) as err:
        load_dataset(make_spec("data.csv", "y", drop=["id"]), tmp_path)
    assert err.value.field == "data.drop[0]"


def test_sklearn_fetch_is_refused(tmp_path):
    with pytest.raises(DataError, match="internet") as err:
        load_dataset(make_spec("sklearn:fetch_covtype", "target"), tmp_path)
    assert err.value.field == "data.source"


# --------------------------------------------------------------------------- recognition


def _load(path: Path, task: str):
    return load_dataset(spec_from_sniff(path, task), path.parent)


@pytest.mark.parametrize(
    "filename, task, title, naive, good",
    [
        ("pima-indians-diabetes.csv", "classification", "Pima Indians Diabetes", 0.651, 0.774),
        ("sonar.csv", "classification", "Sonar, Mines vs. Rocks", 0.534, 0.882),
        ("housing.csv", "regression", "Boston Housing", 6.544, 1.928),
        ("abalone.csv", "regression", "Abalone", 2.363, 1.460),
    ],
)
def test_recognised_by_content(shared_file, filename, task, title, naive, good):
    ds = _load(shared_file(filename), task)
    ref = recognize(ds.X, ds.y, task)
    assert ref is not None
    assert (ref.dataset, ref.naive, ref.good) == (title, naive, good)
    assert ref.metric == ("accuracy" if task == "classification" else "mae")
    assert "10" in ref.protocol and "3" in ref.protocol


def test_recognised_with_header_other_delimiter_and_shuffled_rows(shared_file, tmp_path):
    frame = pd.read_csv(shared_file("pima-indians-diabetes.csv"), header=None)
    frame.columns = ["preg", "plas", "pres", "skin", "test", "mass", "pedi", "age", "class"]
    copy = tmp_path / "diabetes-data.tsv"
    frame.sample(frac=1.0, random_state=0).to_csv(copy, sep="\t", index=False)
    ds = _load(copy, "classification")
    assert list(ds.X.columns)[:2] == ["preg", "plas"]
    ref = recognize(ds.X, ds.y, "classification")
    assert ref is not None and ref.dataset == "Pima Indians Diabetes"


def test_not_recognised(shared_file, tmp_csv, tmp_path):
    ds = _load(shared_file("adult-train.csv"), "classification")
    assert recognize(ds.X, ds.y, "classification") is None
    # same shape and class counts as Pima, other numbers
    rng = np.random.default_rng(0)
    rows = [[*np.round(rng.normal(size=8), 3), int(i < 268)] for i in range(768)]
    fake = load_dataset(make_spec(tmp_csv(rows), "col8", header=False,
                                  columns=[f"col{i}" for i in range(9)]), tmp_path)
    assert recognize(fake.X, fake.y, "classification") is None
    # the right data asked as the wrong task
    pima = _load(shared_file("pima-indians-diabetes.csv"), "classification")
    assert recognize(pima.X, pima.y, "regression") is None


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "diabetes"])
def test_sklearn_datasets_recognised_by_name_and_content(name, tmp_path):
    by_name = recognize_sklearn(f"sklearn:{name}")
    assert by_name is not None
    entry = next(e for e in catalogue().values() if e.sklearn == name)
    ds = load_dataset(make_spec(f"sklearn:{name}", "target", entry.task), tmp_path)
    found = match(ds.X, ds.y)
    assert found is not None and found.key == entry.key
    assert recognize(ds.X, ds.y, entry.task) == by_name


def test_uci_iris_and_sklearn_iris_share_an_entry(shared_file):
    ds = _load(shared_file("iris.csv"), "classification")
    entry = match(ds.X, ds.y)
    assert entry is not None and entry.sklearn == "iris"
    assert entry.reference_spec().good == 0.98


def test_whitespace_separated_file(tmp_csv, tmp_path):
    tmp_csv("".join(f"  {i}.5   {i * 2}    {'a' if i % 2 else 'b'}\n" for i in range(12)),
            name="ws.data")
    info = sniff_csv(tmp_path / "ws.data")
    spec = make_spec("ws.data", "col2", header=False, delimiter=info.delimiter,
                     columns=info.columns)
    ds = load_dataset(spec, tmp_path)
    assert ds.X.shape == (12, 2) and ds.numeric == ["col0", "col1"]
    assert ds.classes == ["a", "b"]


@pytest.mark.parametrize("filename", ["pima-indians-diabetes.csv", "sonar.csv", "abalone.csv",
                                      "housing.csv", "iris.csv", "ionosphere.csv"])
def test_match_stats_agrees_with_match(shared_file, tmp_path, filename):
    from dlrun.data.sources import read_frame
    from dlrun.data.standard import match_stats, numeric_total, target_summary

    path = shared_file(filename)
    info = sniff_csv(path)
    spec = parse_spec({"name": "t", "task": "classification", "metric": "accuracy", "data": {
        "source": str(path), "target": info.columns[-1], "header": info.header,
        "delimiter": info.delimiter, "missing": info.missing + [""]}})
    frame, _ = read_frame(spec.data, tmp_path)
    target = info.columns[-1]
    X, y = frame.drop(columns=[target]), frame[target]
    features = info.columns[:-1]
    total = sum(numeric_total(info.counts[c]) for c in features)
    entry = match_stats((info.n_rows, len(info.columns)), info.counts[target], total)
    assert entry is not None and entry == match(X, y)
    assert abs(total - checksum(X)) <= 1e-6 * max(1.0, abs(total))
    counts, moments = target_summary(info.counts[target])
    assert counts == sorted(y.value_counts().tolist(), reverse=True)
    if moments is not None:
        assert moments == pytest.approx((y.mean(), y.std()))
    # another shape, or other target counts, is not the same dataset
    assert match_stats((info.n_rows + 1, len(info.columns)), info.counts[target], total) is None
    assert match_stats((info.n_rows, len(info.columns)), info.counts[target], total + 1e3) is None
