"""dlrun new: the scaffolded project.yaml loads, is inferred right, and nothing is overwritten."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dlrun.data import load_dataset
from dlrun.errors import ArgumentError, BadInput, DataError
from dlrun.kinds.tabular.scaffold import default_metric, infer_task
from dlrun.scaffold import new_project
from dlrun.spec import load_spec


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def light_drafts_match_the_schema(monkeypatch):
    """Every spec `dlrun new` lays out without pydantic here is also validated by the
    schema, and must be exactly what the schema would have written."""
    import dlrun.scaffold as scaffold_module
    from dlrun.spec import parse_spec, spec_as_document

    light = scaffold_module.spec_document
    checked = []

    def checking(spec):
        document = light(spec)
        assert document == spec_as_document(parse_spec(spec))
        checked.append(document)
        return document

    monkeypatch.setattr(scaffold_module, "spec_document", checking)
    return checked


def scaffold(name, **kwargs):
    path = new_project(name, **kwargs)
    spec, project_dir = load_spec(path)
    return path, spec, project_dir


def test_pima(in_tmp, shared_file):
    path, spec, project_dir = scaffold("pima", data=str(shared_file("pima-indians-diabetes.csv")))
    assert path == Path("projects/pima")
    assert spec.task == "classification"
    assert spec.metric == "accuracy"
    assert spec.data.header is False
    assert spec.data.delimiter == ","
    assert spec.data.target == spec.data.columns[-1]
    assert spec.reference is not None
    assert (spec.reference.naive, spec.reference.good) == (0.651, 0.774)
    assert (spec.evaluation.folds, spec.evaluation.repeats, spec.evaluation.seed) == (10, 3, 1)
    # the data path is relative to the project folder and loads from anywhere
    assert not Path(spec.data.source).is_absolute()
    ds = load_dataset(spec, project_dir)
    assert ds.X.shape == (768, 8)
    text = (path / "project.yaml").read_text()
    assert text.startswith("#")
    assert yaml.safe_load(text)["evaluation"] == {"folds": 10, "repeats": 3, "seed": 1}
    readme = (path / "README.md").read_text()
    for words in ("What is predicted", "For whom", "useful score", "0.651", "0.774",
                  "dlrun validate projects/pima", "dlrun evaluate", "dlrun report"):
        assert words in readme
    assert "$" not in readme.replace("$1000", "")


def test_abalone_is_regression_with_mae(in_tmp, shared_file):
    _, spec, project_dir = scaffold("abalone", data=str(shared_file("abalone.csv")))
    assert spec.task == "regression"
    assert spec.metric == "mae"
    assert spec.reference is not None and spec.reference.naive == 2.363
    ds = load_dataset(spec, project_dir)
    assert len(ds.categorical) == 1  # sex


def test_sklearn_breast_cancer(in_tmp):
    _, spec, project_dir = scaffold("bc", data="sklearn:breast_cancer")
    assert spec.data.source == "sklearn:breast_cancer"
    assert spec.data.target == "target"
    assert spec.task == "classification" and spec.metric == "accuracy"
    assert spec.reference is not None and spec.reference.good == 0.975
    assert load_dataset(spec, project_dir).X.shape == (569, 30)


def test_sklearn_unknown_or_fetch(in_tmp):
    for bad in ("sklearn:fetch_covtype", "sklearn:nope"):
        with pytest.raises(ArgumentError) as err:
            new_project("x", data=bad)
        assert err.value.field == "--data"


def test_refuses_to_overwrite(in_tmp, tmp_csv):
    data = tmp_csv("a,b,y\n1,2,x\n3,4,z\n5,6,x\n")
    first = new_project("p", data=str(data))
    before = (first / "project.yaml").read_text()
    with pytest.raises(BadInput) as err:
        new_project("p", data=str(data), target="a")
    assert err.value.field == "NAME"
    assert (first / "project.yaml").read_text() == before
    assert sorted(os.listdir(first.parent)) == ["p"]  # no temporary folder left behind


def test_target_by_name_and_index(in_tmp, tmp_csv):
    data = tmp_csv("".join(["id,price,colour,kind\n"] +
                           [f"{i},{i * 1.5 + 0.25},{'red' if i % 2 else 'blue'},k{i % 3}\n"
                            for i in range(30)]))
    _, by_name, _ = scaffold("n", data=str(data), target="price")
    assert by_name.data.target == "price"
    assert by_name.task == "regression" and by_name.metric == "mae"
    _, by_index, _ = scaffold("i", data=str(data), target="2")
    assert by_index.data.target == "colour" and by_index.task == "classification"
    _, negative, _ = scaffold("neg", data=str(data), target=-1)
    assert negative.data.target == "kind"
    with pytest.raises(ArgumentError) as err:
        new_project("bad", data=str(data), target="cost")
    assert err.value.field == "--target"
    assert "id, price, colour, kind" in str(err.value)
    with pytest.raises(ArgumentError):
        new_project("bad", data=str(data), target="7")


def test_header_csv_with_semicolons_and_missing(in_tmp, tmp_csv):
    data = tmp_csv("".join(["age;income;label\n"] +
                           [f"{'?' if i == 3 else 20 + i};{'NA' if i == 5 else i * 100};"
                            f"\"{'yes' if i % 3 else 'no'}\"\n" for i in range(40)]),
                   name="sub/d.csv")
    path, spec, project_dir = scaffold("semi", data=str(data), directory="work/projects")
    assert path == Path("work/projects/semi")
    assert spec.data.header is True and spec.data.columns is None
    assert spec.data.delimiter == ";"
    assert set(spec.data.missing) == {"?", "NA", ""}
    assert spec.data.source == os.path.join("..", "..", "..", "sub", "d.csv")
    assert spec.reference is None
    assert load_dataset(spec, project_dir).meta["n_missing"] == {"age": 1, "income": 1}


def test_no_header_option(in_tmp, tmp_csv):
    data = tmp_csv("a,b,c\nx,1,u\ny,2,v\nx,3,u\n")
    _, spec, _ = scaffold("nh", data=str(data), header=False)
    assert spec.data.header is False
    assert spec.data.columns == ["col0", "col1", "col2"]


def test_without_data_writes_a_valid_placeholder(in_tmp):
    path, spec, project_dir = scaffold("todo")
    assert spec.data.source == "data.csv"
    assert "data.csv" in (path / "README.md").read_text()
    with pytest.raises(DataError) as err:
        load_dataset(spec, project_dir)
    assert err.value.field == "data.source"


def test_unknown_template_lists_the_kinds(in_tmp):
    with pytest.raises(ArgumentError) as err:
        new_project("audio", template="audio")
    assert err.value.field == "--template"
    assert "unknown template 'audio'" in str(err.value) and "tabular" in str(err.value)
    assert not Path("projects/audio").exists()


def test_bad_name_and_missing_data(in_tmp):
    with pytest.raises(ArgumentError) as err:
        new_project("../evil")
    assert err.value.field == "NAME"
    with pytest.raises(ArgumentError) as err:
        new_project("x", data="missing.csv")
    assert err.value.field == "--data"


def test_task_and_metric_rules():
    import pandas as pd

    assert infer_task(pd.Series(["a", "b"])) == "classification"
    assert infer_task(pd.Series([0, 1, 1, 0])) == "classification"
    assert infer_task(pd.Series([1.0, 2.0, 3.0])) == "classification"  # integral floats
    assert infer_task(pd.Series(range(28))) == "regression"  # abalone-like rings
    assert infer_task(pd.Series([0.5, 1.25, 2.0])) == "regression"
    assert default_metric("regression", pd.Series([1.0])) == "mae"
    assert default_metric("classification", pd.Series([0] * 60 + [1] * 40)) == "accuracy"
    assert default_metric("classification", pd.Series([0] * 85 + [1] * 15)) == "balanced_accuracy"
    assert default_metric("classification", pd.Series(list(range(10)) * 5)) == "accuracy"


def test_new_does_not_import_heavy_libraries(in_tmp, shared_file):
    code = (
        "import sys; from dlrun.scaffold import new_project;"
        f"new_project('p', data={str(shared_file('pima-indians-diabetes.csv'))!r});"
        "new_project('q', data='sklearn:iris');"
        "bad=[m for m in ('sklearn','tensorflow','keras','xgboost','matplotlib') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- the pandas-free path

SAME_AS_PANDAS = [
    ("pima-indians-diabetes.csv", {"header": False}),
    ("pima-indians-diabetes.csv", {"header": False, "target": "0"}),
    ("sonar.csv", {}),
    ("ionosphere.csv", {}),
    ("abalone.csv", {}),
    ("abalone.csv", {"target": "0"}),
    ("housing.csv", {}),
    ("iris.csv", {}),
    ("adult-train.csv", {}),
    ("wheat-seeds.csv", {}),
    ("winequality-red.csv", {}),
    ("banknote_authentication.csv", {}),
]


def _texts(path: Path) -> tuple[str, str]:
    readme = (path / "README.md").read_text(encoding="utf-8").replace(str(path), "<P>")
    return (path / "project.yaml").read_text(encoding="utf-8"), readme


@pytest.mark.parametrize(("filename", "options"), SAME_AS_PANDAS)
def test_csv_is_described_without_pandas_exactly_as_with_it(in_tmp, shared_file, monkeypatch,
                                                             filename, options):
    import dlrun.kinds.tabular.scaffold as scaffold_module

    data = str(shared_file(filename))
    used = []
    fast = scaffold_module._draft_from_sniff

    def spy(*args):
        used.append(fast(*args))
        return used[-1]

    monkeypatch.setattr(scaffold_module, "_draft_from_sniff", spy)
    quick = new_project("p", data=data, directory="a", **options)
    assert used and used[0] is not None  # the stdlib path described it
    monkeypatch.setattr(scaffold_module, "_draft_from_sniff", lambda *args: None)
    slow = new_project("p", data=data, directory="b", **options)
    assert _texts(quick) == _texts(slow)


@pytest.mark.parametrize("text", [
    "a,b,c,y\n1,?,x,yes\n2,3,?,no\n?,4,z,yes\n5,NA,x,no\n6,7,x,yes\n",  # markers
    "a,b,y\n1,,0\n2,,1\n3,,0\n4,,1\n",  # an empty column
    "x,y\n" + "".join(f"{i},{i * 0.37:.3f}\n" for i in range(50)),  # regression
    "x,y\n" + "".join(f"{i},{1 if i < 5 else 0}\n" for i in range(40)),  # imbalanced
    "x,y\n" + "".join(f"{i},c{i % 15}\n" for i in range(60)),  # many classes
    "a,y\n1,1.5\n2,2.5\n3,1.5\n4,2.5\n5,1.5\n",  # non-integral numeric classes
    "a\tb\tlabel\n1.5\tfoo\tA\n2.5\tbar\tB\n3.5\tfoo\tA\n4.5\tbar\tB\n",
    "x,z,y\n" + "".join(f"{i},{'-' if i == 7 else i},{i % 2}\n" for i in range(40)),
    "a,a,,y\n1,2,3,0\n4,5,6,1\n7,8,9,0\n",  # duplicate and blank names
    "x,y\n1,a\n2,\n3,b\n4,a\n5,?\n6,b\n",  # missing targets
    "x,y\n1,True\n2,False\n3,True\n4,False\n",  # booleans
])
def test_small_csv_files_same_with_or_without_pandas(in_tmp, tmp_csv, monkeypatch, text):
    import dlrun.kinds.tabular.scaffold as scaffold_module

    data = str(tmp_csv(text, name="data.tsv" if "\t" in text else "data.csv"))
    quick = new_project("p", data=data, directory="a")
    monkeypatch.setattr(scaffold_module, "_draft_from_sniff", lambda *args: None)
    slow = new_project("p", data=data, directory="b")
    assert _texts(quick) == _texts(slow)


def test_light_drafts_skip_the_schema_and_pandas_drafts_use_it(in_tmp, tmp_csv, monkeypatch,
                                                              light_drafts_match_the_schema):
    import dlrun.kinds.tabular.scaffold as scaffold_module

    data = str(tmp_csv("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20))))
    new_project("placeholder")
    new_project("iris", data="sklearn:iris")
    new_project("sniffed", data=data)
    assert [d["name"] for d in light_drafts_match_the_schema] == ["placeholder", "iris", "sniffed"]
    monkeypatch.setattr(scaffold_module, "_draft_from_sniff", lambda *args: None)
    path = new_project("read-by-pandas", data=data)
    assert len(light_drafts_match_the_schema) == 3  # validated by dlrun.spec instead
    assert load_spec(path)[0].name == "read-by-pandas"


def test_new_on_a_csv_does_not_import_pandas_or_pydantic(in_tmp, shared_file):
    code = (
        "import sys; from dlrun.scaffold import new_project;"
        f"new_project('p', data={str(shared_file('adult-train.csv'))!r});"
        f"new_project('q', data={str(shared_file('pima-indians-diabetes.csv'))!r}, header=False);"
        "new_project('r', data='sklearn:iris'); new_project('s');"
        "bad=[m for m in ('pandas','numpy','pydantic','sklearn','tensorflow','xgboost','matplotlib')"
        " if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rows, protocol", [(150, (10, 3)), (25_000, (5, 1)), (60_000, (5, 1))])
def test_protocol_suits_the_data_size(in_tmp, rows, protocol):
    """Large data gets dlrun's plan in the spec itself: the written protocol is
    what `dlrun evaluate` runs (explicit values are always honoured there)."""
    lines = ["a,b,label"] + [f"{i % 97},{(i * 7) % 13},{i % 2}" for i in range(rows)]
    (in_tmp / "big.csv").write_text("\n".join(lines) + "\n")  # 60k rows: the pandas path
    path, spec, _ = scaffold("big", data="big.csv")
    assert (spec.evaluation.folds, spec.evaluation.repeats) == protocol
    readme = (path / "README.md").read_text()
    assert (f"{rows:,} rows: evaluation uses" in readme) == (protocol != (10, 3))
