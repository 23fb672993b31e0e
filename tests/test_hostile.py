"""dlrun as a careless or hostile user meets it: every bad spec, file or argument is answered
with exit 2 and a message naming the field, column or argument -- never a traceback --, and
nothing dlrun loads can run code.

Property-based tests (Hypothesis) throw random documents at the spec loader and random
text at the CSV sniffer; a corpus of bad inputs pins the message of each case.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlrun.cli import main
from tests.helpers import classification_csv

GOOD_DATA = "x1,x2,colour,label\n" + "".join(
    f"{i % 7},{(i * 3) % 5}.5,{'red' if i % 3 else 'blue'},{'yes' if i % 2 else 'no'}\n" for i in range(40))


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {type(result.exception).__name__}: {result.exception}")
    return result


def assert_refused(result, *named: str):
    """Exit 2, one paragraph naming the thing, never a traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    for name in named:
        assert name in result.output, (name, result.output)


def project(tmp_path: Path, spec: dict | str, data: str | bytes | None = GOOD_DATA,
            name: str = "data.csv") -> Path:
    folder = tmp_path / "p"
    folder.mkdir(parents=True, exist_ok=True)
    if data is not None:
        target = folder / name
        target.write_bytes(data if isinstance(data, bytes) else data.encode())
    text = spec if isinstance(spec, str) else yaml.safe_dump(spec)
    (folder / "project.yaml").write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return folder


def spec(**changes) -> dict:
    base = {"name": "p", "task": "classification", "metric": "accuracy",
            "data": {"source": "data.csv", "target": "label"},
            "evaluation": {"folds": 3, "repeats": 1, "seed": 1}}
    return {**base, **changes}


# --------------------------------------------------------------------------- the spec

BAD_SPECS = [
    ("empty file", "", ["mapping"]),
    ("a list", "- a\n- b\n", ["mapping"]),
    ("broken YAML", "name: [p\n", ["not valid YAML", "line"]),
    ("a Python tag", "!!python/object/apply:os.system ['touch /tmp/dlrun-pwned']\n", ["YAML"]),
    ("unknown key", spec(evaluaton={"folds": 3}), ["evaluaton", "unknown key"]),
    ("unknown metric", spec(metric="acc"), ["metric", "accuracy"]),
    ("metric of the other task", spec(metric="rmse"), ["metric", "classification"]),
    ("unknown kind", spec(kind="audio"), ["kind", "tabular"]),
    ("task of another kind", spec(task="forecasting"), ["task"]),
    ("a view of another kind", spec(views=["pixels"]), ["views[0]"]),
    ("unknown algorithm", spec(algorithms=["lienar"]), ["algorithms[0]", "linear"]),
    ("unknown parameter", spec(params={"cart": {"depth": 3}}), ["params.cart.depth", "max_depth"]),
    ("a negative depth", spec(params={"cart": {"max_depth": -4}}), ["params.cart.max_depth"]),
    ("a word for a number", spec(params={"linear": {"C": "banana"}}), ["params.linear.C", "number"]),
    ("a probability over 1", spec(params={"xgboost": {"subsample": 2}}), ["params.xgboost.subsample"]),
    ("a kernel that does not exist", spec(params={"svm": {"kernel": "magic"}}), ["params.svm.kernel"]),
    ("zero neighbours", spec(params={"knn": {"n_neighbors": 0}}), ["params.knn.n_neighbors"]),
    ("a block of another kind", spec(series={"horizon": 2}), ["series", "timeseries"]),
    ("one fold", spec(evaluation={"folds": 1}), ["evaluation.folds"]),
    ("a name with a slash", spec(name="../p"), ["name"]),
    ("a name too long", spec(name="p" * 101), ["name"]),
    ("a decimal mark that is not one", spec(data={"source": "data.csv", "target": "label",
                                                  "decimal": ";"}), ["data.decimal"]),
]


@pytest.mark.parametrize("what, text, named", BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_is_refused_naming_the_field(tmp_path, what, text, named):
    assert_refused(invoke("validate", project(tmp_path, text)), *named)
    assert not Path("/tmp/dlrun-pwned").exists()


def test_a_spec_that_is_not_utf8_is_refused(tmp_path):
    folder = project(tmp_path, spec())
    (folder / "project.yaml").write_bytes(b"name: p\ndescription: caf\xe9\n")
    assert_refused(invoke("validate", folder), "UTF-8", "0xe9")


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(string.ascii_lowercase + "_.", max_size=12),
                                                 inner, max_size=4)), max_leaves=12)
PATHS = [("name",), ("task",), ("metric",), ("kind",), ("views",), ("algorithms",), ("params",),
         ("params", "xgboost"), ("params", "mlp", "epochs"), ("data",), ("data", "target"),
         ("data", "delimiter"), ("data", "missing"), ("data", "columns"), ("data", "sample"),
         ("evaluation",), ("evaluation", "folds"), ("evaluation", "max_rows"), ("reference",),
         ("series",), ("images",), ("unknown",)]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(where=st.sampled_from(PATHS), value=VALUES)
def test_any_document_is_validated_or_refused_never_crashes(tmp_path_factory, where, value):
    """A valid spec with one value replaced by anything: exit 0 or 2, never a traceback."""
    document = spec()
    node = document
    for key in where[:-1]:
        node = node.setdefault(key, {}) if isinstance(node.get(key), dict | None) else node
    node[where[-1]] = value
    folder = project(tmp_path_factory.mktemp("h"), yaml.safe_dump(document, allow_unicode=True))
    result = invoke("validate", folder)
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.startswith("Error: ") and ":" in result.output[7:]


# --------------------------------------------------------------------------- the data

BAD_DATA = [
    ("no file", None, {}, ["data.source", "does not exist"]),
    ("an empty file", "", {}, ["data.source", "empty"]),
    ("a header only", "x1,x2,label\n", {}, ["data.source", "no data rows"]),
    ("a binary file", bytes(range(256)) * 8, {}, []),
    ("a missing target column", GOOD_DATA, {"target": "labl"}, ["data.target", "label"]),
    ("a single class", "x,label\n1,a\n2,a\n3,a\n4,a\n", {}, ["data.target", "single class"]),
    ("an infinite feature", "x,label\n1,a\ninf,b\n3,a\n4,b\n5,a\n6,b\n", {}, ["x", "infinite", "row"]),
    ("a huge feature", "x,label\n1,a\n1e308,b\n3,a\n4,b\n5,a\n6,b\n", {}, ["x", "too large"]),
    ("an infinite target", "x,label\n1,1.5\n2,inf\n3,2.5\n4,1.0\n5,0.5\n6,2.0\n",
     {"_task": "regression"}, ["data.target", "infinite"]),
    ("a column with no values", "x,e,label\n1,,a\n2,,b\n3,,a\n4,,b\n", {}, ["e", "no values"]),
    ("rows of different lengths", "x,label\n1,a\n2,b,3,4,5\n3,a\n", {}, ["data.delimiter"]),
    ("a dropped target", GOOD_DATA, {"drop": ["label"]}, ["data.drop"]),
    ("a categorical that is not a column", GOOD_DATA, {"categorical": ["nope"]}, ["data.categorical[0]"]),
]


@pytest.mark.parametrize("what, data, changes, named", BAD_DATA, ids=[c[0] for c in BAD_DATA])
def test_bad_data_is_refused_naming_the_column(tmp_path, what, data, changes, named):
    changes = dict(changes)
    task = changes.pop("_task", "classification")
    document = spec(task=task, metric="accuracy" if task == "classification" else "mae",
                    data={"source": "data.csv", "target": changes.pop("target", "label"), **changes})
    folder = project(tmp_path, document, data)
    for command in ("validate", "evaluate"):
        result = invoke(command, folder, *(["--only", "baseline"] if command == "evaluate" else []))
        assert_refused(result, *named)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(alphabet=string.printable + "é;\t|\"'", max_size=400))
def test_any_text_is_sniffed_or_refused_and_new_never_crashes(tmp_path_factory, text):
    from dlrun.data.sniff import sniff_csv

    folder = tmp_path_factory.mktemp("s")
    path = folder / "data.csv"
    path.write_text(text, encoding="utf-8")
    try:
        info = sniff_csv(path)
        assert info.n_rows >= 0 and len(info.columns) == len(set(info.columns))
    except ValueError:
        pass  # an empty file: the documented refusal
    result = invoke("new", "p", "--data", path, "--dir", folder / "projects")
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 0:  # what `new` wrote loads, or says why not with exit 2
        check = invoke("validate", folder / "projects" / "p")
        assert check.exit_code in (0, 2) and "Traceback" not in check.output, check.output


# --------------------------------------------------------------------------- the arguments


@pytest.fixture
def good(tmp_path):
    return project(tmp_path, spec())


def test_bad_arguments_are_refused_naming_them(good, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = [
        (["evaluate", good, "--only", ""], ["--only"]),
        (["evaluate", good, "--only", ",,"], ["--only"]),
        (["evaluate", good, "--only", "lienar"], ["--only", "linear"]),
        (["evaluate", good, "--backend", "spark"], ["--backend"]),
        (["evaluate", good, "--scheduler", "tcp://x:1"], ["--scheduler"]),
        (["evaluate", good, "--jobs", "x"], ["--jobs"]),
        (["new", "x", "--dir", a_file], ["--dir", "not a folder"]),
        (["new", "p" * 300], ["NAME", "300"]),
        (["new", "../evil"], ["NAME"]),
        (["new", "x", "--template", "audio"], ["--template", "tabular"]),
        (["new", "x", "--test-size", "4"], ["--test-size"]),
        (["new", "x", "--data", tmp_path / "missing.csv"], ["--data"]),
        (["report", good, "--portfolio", a_file], ["--portfolio", "not a folder"]),
        (["predictions", good, "--out", tmp_path], ["--out", "folder"]),
        (["predict", tmp_path / "nowhere", "--data", a_file], ["ENTRY"]),
        (["predict", a_file, "--data", a_file], ["ENTRY", "entry folder"]),
    ]
    for args, named in cases:
        assert_refused(invoke(*args), *named)


def test_jobs_beyond_the_cores_are_capped_with_a_note(good):
    result = invoke("evaluate", good, "--only", "baseline", "--jobs", "100000")
    assert result.exit_code == 0, result.output
    assert "--jobs 100000 capped" in result.output


def test_predictions_before_any_evaluation_says_what_to_run(good):
    assert_refused(invoke("predictions", good), "PROJECT", "dlrun evaluate")


# --------------------------------------------------------------------------- silent changes


def test_what_reading_changed_is_said(tmp_path):
    data = "a;a;y\n33,6;1;0\n12,1;2;1\n4,5;3;0\n7;4;1\n8,25;5;0\n9,5;6;1\n;7;0\n"
    folder = project(tmp_path, spec(data={"source": "data.csv", "target": "y", "delimiter": ";"}), data)
    result = invoke("validate", folder)
    assert result.exit_code == 0, result.output
    assert "decimal commas" in result.output and "data.decimal" in result.output
    assert "'a' more than once" in result.output
    scaffolded = invoke("new", "semi", "--data", folder / "data.csv", "--dir", tmp_path / "new")
    assert scaffolded.exit_code == 0, scaffolded.output
    written = yaml.safe_load((tmp_path / "new" / "semi" / "project.yaml").read_text())
    assert written["data"]["decimal"] == ","


def test_rows_without_a_target_and_outside_data_are_announced(tmp_path):
    data = GOOD_DATA + "1,2.5,red,\n"
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(data)
    folder = project(tmp_path, spec(data={"source": str(outside), "target": "label"}), None)
    result = invoke("validate", folder)
    assert result.exit_code == 0, result.output
    assert "1 row(s) with a missing target" in result.output
    assert "outside the project folder" in result.output


def test_messages_name_class_labels_as_written(tmp_path):
    data = "x,label\n" + "".join(f"{i},{1 if i < 2 else 0}\n" for i in range(30))
    result = invoke("validate", project(tmp_path, spec(), data))
    assert "class 1 of 'label' has only 2 row(s)" in result.output
    assert "np.int64" not in result.output


def test_folds_cut_by_a_tiny_table_are_announced(tmp_path):
    data = "x,label\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(8))
    folder = project(tmp_path, spec(evaluation={"folds": 6, "repeats": 1}), data)
    result = invoke("evaluate", folder, "--only", "baseline")
    assert result.exit_code == 0, result.output
    assert "folds reduced from 6 to 4" in result.output


def test_a_damaged_store_is_moved_aside_and_said(good):
    assert invoke("evaluate", good, "--only", "baseline").exit_code == 0
    (good / ".dlrun" / "results.sqlite").write_bytes(b"not a database at all" * 100)
    result = invoke("evaluate", good, "--only", "baseline")
    assert result.exit_code == 0, result.output
    assert "damaged" in result.output
    assert list((good / ".dlrun").glob("results.sqlite.damaged-*"))


# --------------------------------------------------------------------------- memory


@pytest.mark.slow
def test_data_too_large_for_the_memory_left_is_refused_with_what_to_do(tmp_path):
    """Under an address-space limit (what `ulimit -v` sets), a table that cannot fit is
    refused with its size and the data.sample option, not killed; with data.sample it loads."""
    import os
    import resource
    import subprocess
    import sys

    import numpy as np

    rng = np.random.default_rng(0)
    folder = project(tmp_path, spec(data={"source": "big.csv", "target": "label"}), None)
    with open(folder / "big.csv", "w") as handle:
        handle.write("a,b,c,d,label\n")
        for _ in range(30):
            block = rng.random((20_000, 4))
            labels = rng.integers(0, 2, size=(20_000, 1))
            np.savetxt(handle, np.hstack([block, labels]), fmt=["%.9f"] * 4 + ["%d"], delimiter=",")
    size = (folder / "big.csv").stat().st_size
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    probe = ("import resource, pandas, pydantic, yaml, dlrun.api; print(int(open('/proc/self/statm')"
             ".read().split()[0]) * resource.getpagesize())")
    base = int(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              check=True, env=env).stdout)
    limit = base + size  # room for the file once, not for reading it into a table

    def limited():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    exe = Path(sys.executable).with_name("dlrun")
    run = subprocess.run([str(exe), "validate", str(folder)], capture_output=True, text=True,
                         preexec_fn=limited, env=env)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "big.csv" in run.stderr and "MB" in run.stderr and "data.sample" in run.stderr
    (folder / "project.yaml").write_text(yaml.safe_dump(spec(data={"source": "big.csv",
                                                                   "target": "label",
                                                                   "sample": 20_000})))
    run = subprocess.run([str(exe), "validate", str(folder)], capture_output=True, text=True,
                         preexec_fn=limited, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "20000 rows" in run.stdout and "20,000 rows drawn at random" in run.stderr


def test_a_sample_is_seeded_and_keeps_the_header(tmp_path):
    csv = classification_csv(tmp_path / "many.csv", n=500)
    document = spec(data={"source": str(csv), "target": "label", "sample": 100})
    first = invoke("validate", project(tmp_path, document, None))
    assert first.exit_code == 0 and "100 rows" in first.output, first.output
    from dlrun.data.sources import read_frame
    from dlrun.spec import DataSpec

    frames = [read_frame(DataSpec(source=str(csv), target="label", sample=100), tmp_path)[0]
              for _ in range(2)]
    assert frames[0].equals(frames[1]) and list(frames[0].columns) == ["x1", "x2", "colour", "label"]


# --------------------------------------------------------------------------- nothing runs code


@pytest.fixture(scope="module")
def entry(tmp_path_factory):
    """A real portfolio entry (evaluated, reported) to tamper with."""
    root = tmp_path_factory.mktemp("entry")
    folder = project(root, spec())
    assert invoke("evaluate", folder, "--only", "baseline,linear").exit_code == 0
    result = invoke("report", folder, "--portfolio", root / "portfolio")
    assert result.exit_code == 0, result.output
    (root / "rows.csv").write_text(GOOD_DATA)
    return root / "portfolio" / "p", root / "rows.csv"


def copy_entry(entry, tmp_path) -> Path:
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(entry, target)
    return target


def rewrite_manifest(folder: Path, **files: bytes) -> None:
    """Replace model files and update the manifest's digests, as an attacker would."""
    import hashlib
    import json

    manifest_path = folder / "model" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for name, data in files.items():
        (folder / "model" / name).write_bytes(data)
        manifest["files"][name] = hashlib.sha256(data).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def test_the_saved_entry_predicts(entry):
    folder, rows = entry
    result = invoke("predict", folder, "--data", rows)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("prediction,p_no,p_yes")


def test_a_pickle_payload_in_an_entry_does_not_run(entry, tmp_path):
    import pickle

    folder = copy_entry(entry[0], tmp_path)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    # an old-style entry: a pickled model.joblib and no manifest
    (folder / "model" / "manifest.json").unlink()
    (folder / "model" / "model.joblib").write_bytes(pickle.dumps(Payload()))
    assert_refused(invoke("predict", folder, "--data", entry[1]), "ENTRY", "pickle",
                   "dlrun report p")
    # the payload as the pipeline file of an entry with a manifest
    folder = copy_entry(entry[0], tmp_path / "second")
    rewrite_manifest(folder, **{"pipeline.skops": pickle.dumps(Payload())})
    assert_refused(invoke("predict", folder, "--data", entry[1]), "ENTRY")
    assert not marker.exists()


def test_a_model_file_with_untrusted_types_is_refused(entry, tmp_path):
    import io
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    folder = copy_entry(entry[0], tmp_path)
    buffer = io.BytesIO()
    sio.dump(FunctionTransformer(func=os.system), buffer)
    rewrite_manifest(folder, **{"pipeline.skops": buffer.getvalue()})
    assert_refused(invoke("predict", folder, "--data", entry[1]), "ENTRY", "will not load", "system")


def test_a_changed_model_file_is_refused(entry, tmp_path):
    folder = copy_entry(entry[0], tmp_path)
    path = folder / "model" / "pipeline.skops"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    assert_refused(invoke("predict", folder, "--data", entry[1]), "ENTRY", "digest")


@pytest.mark.deep
def test_a_keras_file_with_a_lambda_layer_is_refused(tmp_path):
    """A net's .keras file holding a Lambda layer (serialized code) is not loaded."""
    from dlrun.algorithms.keras.backend import import_keras
    from dlrun.catalogue import KINDS
    from dlrun.evaluation.candidates import Candidate, build_estimator
    from dlrun.evaluation.runner import build_context
    from dlrun.modelfile import save_model

    dataset = KINDS.get("image").example("classification")
    ctx = build_context(dataset, "accuracy", 1)
    pipeline = build_estimator(Candidate("cnn", "pixels", {"epochs": 1}), ctx, dataset.roles, "image")
    pipeline.fit(dataset.X, dataset.encoded_target())
    folder = tmp_path / "entry"
    save_model(folder, pipeline, {"kind": "image", "task": "classification", "classes": [0, 1, 2]})
    keras = import_keras()
    inputs = keras.Input(shape=(8, 8, 1))
    outputs = keras.layers.Lambda(lambda x: x * 2)(keras.layers.Flatten()(inputs))
    lambda_path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(str(lambda_path))
    rewrite_manifest(folder, **{"net-0.keras": lambda_path.read_bytes()})
    images = tmp_path / "new"
    images.mkdir()
    from PIL import Image

    Image.new("L", (8, 8), 128).save(images / "a.png")
    assert_refused(invoke("predict", folder, "--data", images), "ENTRY", "net-0.keras", "Lambda")


def test_a_yaml_tag_in_a_spec_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    text = f"name: p\ntask: !!python/object/apply:os.system ['touch {marker}']\n"
    assert_refused(invoke("validate", project(tmp_path, text)), "YAML")
    assert not marker.exists()


def test_report_of_an_unevaluated_project_refuses_with_the_command(good, tmp_path):
    result = invoke("report", good, "--portfolio", tmp_path / "pf")
    assert_refused(result, "PROJECT", "not been evaluated", f"dlrun evaluate {good}")
    assert not (tmp_path / "pf").exists() or not any((tmp_path / "pf").iterdir())


def test_an_entry_of_another_project_is_not_overwritten(tmp_path):
    portfolio = tmp_path / "portfolio"
    first = project(tmp_path / "one", spec())
    second = project(tmp_path / "two", spec())  # another project, the same name
    for folder in (first, second):
        assert invoke("evaluate", folder, "--only", "baseline,linear").exit_code == 0
    assert invoke("report", first, "--portfolio", portfolio).exit_code == 0
    before = (portfolio / "p" / "model" / "manifest.json").read_text()
    assert_refused(invoke("report", second, "--portfolio", portfolio), "--portfolio",
                   "another project", "--force")
    assert (portfolio / "p" / "model" / "manifest.json").read_text() == before
    assert invoke("report", first, "--portfolio", portfolio).exit_code == 0  # its own: fine
    assert invoke("report", second, "--portfolio", portfolio, "--force").exit_code == 0


def test_markup_from_the_data_is_shown_never_run(tmp_path):
    """Column names, class labels, the description and the data file's name full of markup
    end up in README.md and report.html as text: no tag, no script, no javascript: link."""
    evil = '<script>alert(1)</script>'
    data = (f'"{evil}",x2,"lab<img src=x onerror=alert(2)>"\n'
            + "".join(f"{i % 5},{i % 3},{'<b>yes</b>' if i % 2 else 'no&amp;'}\n" for i in range(40)))
    document = spec(description="[click](javascript:alert(3)) " + evil,
                    data={"source": "<x>.csv", "target": "lab<img src=x onerror=alert(2)>"})
    folder = project(tmp_path, document, data, name="<x>.csv")
    assert invoke("evaluate", folder, "--only", "baseline,cart").exit_code == 0
    result = invoke("report", folder, "--portfolio", tmp_path / "pf")
    assert result.exit_code == 0, result.output
    from markdown_it import MarkdownIt

    readme = (tmp_path / "pf" / "p" / "README.md").read_text()
    # as a git host renders it, raw HTML allowed: markup from the data must not become tags
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(readme)
    page = (tmp_path / "pf" / "p" / "report.html").read_text()
    import re

    for name, html in (("README.md", rendered), ("report.html", page)):
        for bad in (r"<script\b", r"<img\b[^>]*onerror", r"<b>yes", r'href="javascript'):
            assert not re.search(bad, html), (name, bad)
    assert "&lt;script&gt;" in page and "&lt;script&gt;" in rendered  # shown, as text
