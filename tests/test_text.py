"""Text projects: sources and encodings, dlrun new, leakage-free views, every algorithm's
row, report, predict, and the movie-review polarity set (slow)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from dlrun.cli import main
from dlrun.errors import DataError
from dlrun.kinds.text import data as text_data
from dlrun.kinds.text.documents import decode_bytes, read_document
from dlrun.spec import load_spec, parse_spec

WORDS = {
    "praise": ["great", "wonderful", "loved", "brilliant", "superb", "excellent", "delight", "moving"],
    "complaint": ["awful", "boring", "hated", "terrible", "dull", "waste", "broken", "tedious"],
    "plain": ["arrived", "tuesday", "box", "blue", "meeting", "page", "station", "ticket"],
}
FILLER = ["the", "a", "film", "it", "was", "and", "this", "story", "really", "quite", "of", "very",
          "in", "to", "with", "but", "some", "more"]


def corpus(n: int = 90, seed: int = 0, classes=("praise", "complaint", "plain")):
    """Documents whose class shows in a few of their words, among shared filler."""
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for i in range(n):
        label = classes[i % len(classes)]
        words = list(rng.choice(FILLER, size=int(rng.integers(8, 30))))
        words += list(rng.choice(WORDS[label], size=int(rng.integers(2, 5))))
        rng.shuffle(words)
        docs.append(" ".join(words) + " .")
        labels.append(label)
    return docs, labels


def write_folder(root: Path, n: int = 90, seed: int = 0, classes=("praise", "complaint", "plain")) -> Path:
    docs, labels = corpus(n, seed, classes)
    for i, (doc, label) in enumerate(zip(docs, labels, strict=True)):
        (root / label).mkdir(parents=True, exist_ok=True)
        (root / label / f"{i:03d}.txt").write_text(doc, encoding="utf-8")
    return root


def write_csv(path: Path, n: int = 90, seed: int = 0) -> Path:
    docs, labels = corpus(n, seed)
    frame = pd.DataFrame({"id": np.arange(n), "note": ["short"] * n, "review": docs, "label": labels})
    frame.to_csv(path, index=False)
    return path


def spec_for(source: str, **text) -> object:
    data = {"name": "t", "kind": "text", "task": "classification",
            "data": {"source": source, "target": "label"}, "metric": "accuracy",
            "evaluation": {"folds": 3, "repeats": 1}}
    if text:
        data["text"] = text
    return parse_spec(data)


# --------------------------------------------------------------------------- sources


def test_files_decode_as_utf8_cp1252_or_latin1_and_binary_is_named(tmp_path):
    assert decode_bytes("naïve café".encode(), "a") == ("naïve café", "utf-8")
    assert decode_bytes(b"\xef\xbb\xbfbom", "a") == ("bom", "utf-8")
    assert decode_bytes("“quoted” café".encode("cp1252"), "a") == ("“quoted” café", "cp1252")
    assert decode_bytes(b"un caf\xe9 au lait, tr\xe8s bien \x81", "a")[1] == "latin-1"  # 0x81: not cp1252
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary\x00")
    with pytest.raises(DataError, match=r"bin\.txt is not text"):
        read_document(tmp_path / "bin.txt")
    (tmp_path / "wide.txt").write_bytes("hello".encode("utf-16"))
    with pytest.raises(DataError, match=r"wide\.txt is UTF-16"):
        read_document(tmp_path / "wide.txt")


def test_folder_loader_reads_classes_lengths_and_encodings(tmp_path):
    folder = write_folder(tmp_path / "docs", n=30)
    (folder / "praise" / "deeper").mkdir()
    (folder / "praise" / "deeper" / "x.txt").write_bytes("superb “film” café".encode("cp1252"))
    (folder / "praise" / ".hidden.txt").write_text("ignored")
    (folder / "praise" / "notes.md").write_text("ignored")
    ds = text_data.load_text_dataset(spec_for(str(folder)), tmp_path)
    assert ds.kind == "text" and ds.n_rows == 31 and ds.classes == ["complaint", "plain", "praise"]
    assert isinstance(ds.X, np.ndarray) and ds.X.dtype == object
    row = ds.meta["files"].index("praise/deeper/x.txt")
    assert ds.X[row] == "superb “film” café" and ds.meta["lengths"][row] == 3
    assert ds.meta["context"]["sequence_length"] == 400 and ds.meta["context"]["vocabulary_size"] == 20_002
    (folder / "plain" / "bad.txt").write_bytes(b"\x00\x00\x00")
    with pytest.raises(DataError, match=r"plain/bad\.txt is not text"):
        text_data.load_text_dataset(spec_for(str(folder)), tmp_path)


def test_large_folders_are_read_lazily(tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "docs", n=12)
    monkeypatch.setattr(text_data, "EAGER_MAX_BYTES", 0)
    ds = text_data.load_text_dataset(spec_for(str(folder)), tmp_path)
    assert isinstance(ds.X, text_data.TextFiles) and ds.X.shape == (12,)
    part = ds.X[np.array([0, 5, 9])]
    assert isinstance(part, text_data.TextFiles) and len(part) == 3  # still files, not text
    assert list(part)[1] == ds.X[5] and pickle.loads(pickle.dumps(part)).paths == part.paths
    monkeypatch.setattr(text_data, "EAGER_MAX_BYTES", 1 << 30)
    eager = text_data.load_text_dataset(spec_for(str(folder)), tmp_path)
    assert isinstance(eager.X, np.ndarray) and list(np.asarray(ds.X)) == list(eager.X)
    assert len(ds.fingerprint()) == 16 and list(np.asarray(ds.X)) == [read_document(p) for p in ds.X.paths]
    from dlrun.kinds.text.vectorizers import TermWeights, TokenIds

    out = TermWeights().fit(ds.X[np.arange(8)]).transform(ds.X[np.arange(8, 12)])  # streamed
    assert out.shape[0] == 4
    lazy_ids = TokenIds(length=10).fit(ds.X[np.arange(8)]).transform(ds.X[np.arange(8, 12)])
    eager_ids = TokenIds(length=10).fit(eager.X[:8]).transform(eager.X[8:])
    np.testing.assert_array_equal(lazy_ids, eager_ids)
    assert eager.fingerprint() == text_data.load_text_dataset(spec_for(str(folder)), tmp_path).fingerprint()


def test_csv_text_column_is_the_longest_string_column_unless_named(tmp_path):
    path = write_csv(tmp_path / "reviews.csv", n=30)
    ds = text_data.load_text_dataset(spec_for("reviews.csv"), tmp_path)
    assert ds.meta["column"] == "review" and ds.n_rows == 30 and ds.X[0].endswith(" .")
    named = text_data.load_text_dataset(spec_for("reviews.csv", column="note"), tmp_path)
    assert named.meta["column"] == "note" and set(named.X) == {"short"}
    with pytest.raises(DataError, match="text.column: no column 'nope'"):
        text_data.load_text_dataset(spec_for("reviews.csv", column="nope"), tmp_path)
    frame = pd.read_csv(path)
    frame.loc[3, "label"] = None
    frame.to_parquet(tmp_path / "reviews.parquet")
    ds = text_data.load_text_dataset(spec_for("reviews.parquet"), tmp_path)
    assert ds.n_rows == 29 and any("without a label" in w for w in ds.meta["warnings"])


def test_text_block_needs_kind_text():
    from dlrun.errors import SpecError

    with pytest.raises(SpecError, match="text"):
        parse_spec({"name": "t", "task": "classification", "data": {"source": "a.csv", "target": "y"},
                    "metric": "accuracy", "text": {"min_df": 1}})
    with pytest.raises(SpecError, match="text.ngrams"):
        spec_for("a.csv", ngrams=[3, 1])


# --------------------------------------------------------------------------- dlrun new


def test_new_text_project_from_a_folder_infers_classes_and_sizes(tmp_path):
    folder = write_folder(tmp_path / "docs", n=45)
    runner = CliRunner()
    result = runner.invoke(main, ["new", "notes", "--template", "text", "--data", str(folder),
                                  "--dir", str(tmp_path / "projects")])
    assert result.exit_code == 0, result.output
    spec, _ = load_spec(tmp_path / "projects" / "notes")
    assert spec.kind == "text" and spec.task == "classification" and spec.metric == "accuracy"
    assert spec.data.target == "label" and spec.data.source == "../../docs"
    assert spec.views == ["bow", "counts", "tfidf", "char_tfidf", "tokens"]
    assert spec.evaluation.folds == 10 and spec.evaluation.repeats == 1
    assert spec.text.sequence_length == 40 and spec.text.column is None  # 90% of 11-34 words
    readme = (tmp_path / "projects" / "notes" / "README.md").read_text()
    assert "3 classes, complaint: 15, plain: 15, praise: 15" in readme
    result = runner.invoke(main, ["validate", str(tmp_path / "projects" / "notes")])
    assert result.exit_code == 0 and "45 documents" in result.output
    result = runner.invoke(main, ["new", "x", "--template", "text", "--data", str(folder), "--text", "a",
                                  "--dir", str(tmp_path / "projects")])
    assert result.exit_code == 2 and "--text" in result.output


def test_new_text_project_from_a_csv_with_target_and_text(tmp_path):
    path = write_csv(tmp_path / "reviews.csv", n=40)
    runner = CliRunner()
    args = ["new", "r", "--template", "text", "--data", str(path), "--dir", str(tmp_path / "p")]
    assert runner.invoke(main, args).exit_code == 0
    spec, _ = load_spec(tmp_path / "p" / "r")
    assert spec.text.column == "review" and spec.data.target == "label" and spec.data.missing == [""]
    result = runner.invoke(main, ["new", "r2", "--template", "text", "--data", str(path), "--dir",
                                  str(tmp_path / "p"), "--target", "label", "--text", "note"])
    assert result.exit_code == 0, result.output
    assert load_spec(tmp_path / "p" / "r2")[0].text.column == "note"
    result = runner.invoke(main, ["new", "r5", "--template", "text", "--data", str(path), "--dir",
                                  str(tmp_path / "p"), "--target", "note"])
    assert result.exit_code == 2 and "'note' holds a single class" in result.output
    result = runner.invoke(main, ["new", "r3", "--template", "text", "--data", str(path), "--dir",
                                  str(tmp_path / "p"), "--text", "nope"])
    assert result.exit_code == 2 and "--text: no column 'nope'" in result.output
    result = runner.invoke(main, ["new", "r4", "--data", str(path), "--text", "review", "--dir",
                                  str(tmp_path / "p")])
    assert result.exit_code == 2 and "--text does not apply to a tabular project" in result.output
    assert "--text COL" in runner.invoke(main, ["new", "--help"]).output


def test_dlrun_new_on_documents_imports_no_tensorflow(tmp_path):
    folder = write_folder(tmp_path / "docs", n=12)
    code = ("import sys\nfrom dlrun.scaffold import new_project\n"
            f"new_project('n', template='text', data={str(folder)!r}, directory={str(tmp_path)!r})\n"
            "heavy = [m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


# --------------------------------------------------------------------------- views and models


def test_views_learn_their_vocabulary_on_the_training_documents_only():
    from dlrun.kinds.text.vectorizers import TermWeights, TokenIds

    train = np.array(["good film good", "bad film", "good plot", "bad plot bad"], dtype=object)
    test = np.array(["good zebra", "zebra zebra bad"], dtype=object)
    view = TermWeights(weighting="tfidf", ngram_range=(1, 1), min_df=1).fit(train)
    assert "zebra" not in set(view.get_feature_names_out())
    again = TermWeights(weighting="tfidf", ngram_range=(1, 1), min_df=1).fit(train)
    np.testing.assert_allclose(view.transform(test).toarray(), again.transform(test).toarray())
    counts = TermWeights(weighting="counts", ngram_range=(1, 2), min_df=1).fit(train)
    assert "good film" in set(counts.get_feature_names_out())
    assert TermWeights(weighting="binary", min_df=1).fit(train).transform(train).max() == 1
    tokens = TokenIds(max_tokens=10, length=3).fit(train)
    assert sorted(tokens.vocabulary_) == ["bad", "film", "good", "plot"]  # "zebra": test only
    assert TokenIds(max_tokens=10, length=3).fit(train).vocabulary_ == tokens.vocabulary_
    good, bad = (tokens.vocabulary_.index(w) + 2 for w in ("good", "bad"))
    assert tokens.transform(test).tolist() == [[0, good, 1], [1, 1, bad]]  # the last words, 1: unknown


def test_nbsvm_counts_its_ratios_on_the_training_rows():
    import scipy.sparse as sp

    from dlrun.kinds.text.nbsvm import NBSVMClassifier, log_count_ratio

    X = sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 0], [0, 1, 1], [0, 1, 0]], dtype=float))
    y = np.array([1, 1, 0, 0])
    r = log_count_ratio(X, y == 1, 1.0)
    assert r[0] > 0 > r[1] and abs(r[2]) < 1e-12
    model = NBSVMClassifier().fit(X, y)
    assert model.predict(X).tolist() == [1, 1, 0, 0] and model.coef_.shape == (1, 3)
    np.testing.assert_allclose(model.decision_function(X), X @ model.coef_[0] + model.intercept_[0])
    three = NBSVMClassifier(loss="logistic").fit(sp.vstack([X, X]), np.array([0, 1, 2, 2, 0, 1, 2, 2]))
    assert three.coef_.shape == (3, 3) and np.allclose(three.predict_proba(X).sum(axis=1), 1)


def test_core_algorithms_branch_on_sparse_inputs():
    from dataclasses import replace

    from dlrun.catalogue import ALGORITHMS, SPARSE, TOKENS, BuildContext

    table = BuildContext(task="classification", metric="accuracy", seed=1, n_rows=100, n_classes=2)
    sparse = replace(table, input=SPARSE)
    assert type(ALGORITHMS.get("svm").make(sparse)).__name__ == "LinearSVC"
    assert type(ALGORITHMS.get("svm").make(table)).__name__ == "SVC"
    assert type(ALGORITHMS.get("naive_bayes").make(sparse)).__name__ == "MultinomialNB"
    assert type(ALGORITHMS.get("naive_bayes").make(table)).__name__ == "GaussianNB"
    assert ALGORITHMS.get("linear").defaults(sparse)["C"] == 10.0
    assert ALGORITHMS.get("linear").defaults(table)["C"] == 1.0
    assert ALGORITHMS.get("xgboost").defaults(sparse)["max_terms"] == 2000
    assert "max_terms" not in ALGORITHMS.get("xgboost").defaults(table)
    assert ALGORITHMS.get("mlp").defaults(sparse)["max_inputs"] == 5000
    tokens = replace(table, input=TOKENS)
    assert type(ALGORITHMS.get("cnn").make(tokens)).__name__ == "EmbeddingCNNClassifier"
    assert type(ALGORITHMS.get("lstm").make(tokens)).__name__ == "BiLSTMClassifier"


def test_sparse_mlp_keeps_the_most_frequent_training_terms():
    import scipy.sparse as sp

    from dlrun.algorithms.keras.sparse import SparseMLPClassifier

    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((60, 30)) < 0.2).astype(np.float32))
    X[:, 7] = 1.0  # in every row
    y = (X[:, 3].toarray().ravel() > 0).astype(int)
    net = SparseMLPClassifier(n_classes=2, max_inputs=5, epochs=3, hidden=(8,)).fit(X, y)
    assert 7 in net.columns_ and len(net.columns_) == 5 and net.n_features_in_ == 5
    assert net.predict_proba(X).shape == (60, 2)


def test_embedding_nets_are_reproducible():
    from dlrun.algorithms.keras.embedding import BiLSTMClassifier, EmbeddingCNNClassifier

    rng = np.random.default_rng(0)
    X = rng.integers(0, 30, size=(40, 12)).astype(np.int32)
    y = (X[:, -1] % 2).astype(int)
    for cls in (EmbeddingCNNClassifier, BiLSTMClassifier):
        a = cls(n_classes=2, vocabulary_size=30, epochs=2, seed=3).fit(X, y)
        b = cls(n_classes=2, vocabulary_size=30, epochs=2, seed=3).fit(X, y)
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5)
        assert a.input_dim_ == 30 and a.predict(X + 100).shape == (40,)  # unknown ids: out of vocabulary


# --------------------------------------------------------------------------- end to end

FAST = {"mlp": {"epochs": 8, "patience": 4, "max_inputs": 200}, "cnn": {"epochs": 5},
        "lstm": {"epochs": 5, "max_length": 24}, "xgboost": {"n_estimators": 20, "max_terms": 200}}


def make_project(tmp_path: Path, source: Path, name: str, extra: list[str] | None = None) -> Path:
    runner = CliRunner()
    args = ["new", name, "--template", "text", "--data", str(source), "--dir", str(tmp_path / "projects")]
    result = runner.invoke(main, args + (extra or []))
    assert result.exit_code == 0, result.output
    spec_file = tmp_path / "projects" / name / "project.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    spec["params"] = FAST
    spec["evaluation"] = {"folds": 3, "repeats": 1, "seed": 1}
    spec["text"]["char_vocabulary"] = 2000
    spec_file.write_text(yaml.safe_dump(spec))
    return spec_file.parent


def test_every_algorithm_has_a_row_then_report_and_predict(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path, write_folder(tmp_path / "docs", n=90), "notes")
    runner = CliRunner()
    result = runner.invoke(main, ["evaluate", str(project), "--json"])
    assert result.exit_code == 0, result.output
    board = json.loads(result.stdout)
    assert not board["failures"]
    best = {}
    for row in board["rows"]:
        best.setdefault(row["algorithm"], row)
    assert set(best) >= {"baseline", "linear", "naive_bayes", "nbsvm", "svm", "xgboost", "mlp", "cnn",
                         "lstm"}
    assert {r["view"] for r in board["rows"] if r["algorithm"] == "cnn"} == {"tokens"}
    # NBSVM binarises its input, so views that differ only in term weights tie exactly and
    # share one row (tied_views)
    assert {v for r in board["rows"] if r["algorithm"] == "nbsvm"
            for v in [r["view"], *r.get("tied_views", [])]} == {"bow", "counts", "tfidf", "char_tfidf"}
    assert best["baseline"]["mean"] == pytest.approx(1 / 3, abs=0.01)
    for name in ("linear", "naive_bayes", "nbsvm", "svm"):
        assert best[name]["mean"] > 0.8, best[name]
    again = json.loads(runner.invoke(main, ["evaluate", str(project), "--json"]).stdout)
    assert again["jobs"]["computed"] == 0  # every fit stored

    result = runner.invoke(main, ["report", str(project), "--portfolio", "pf"])
    assert result.exit_code == 0, result.output
    readme = (tmp_path / "pf" / "notes" / "README.md").read_text()
    assert "## Documents: informative terms, errors and lengths" in readme
    assert "Most informative terms per class" in readme and "Confusion matrix" in readme
    assert "Document lengths (words)" in readme

    new = tmp_path / "new"
    write_folder(new, n=6, seed=5)
    (new / "plain" / "x.txt").write_bytes("awful boring “film” café".encode("cp1252"))
    result = runner.invoke(main, ["predict", "pf/notes", "--data", str(new), "--out", "p.csv"])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "p.csv")
    assert len(out) == 7 and out.columns[:2].tolist() == ["file", "prediction"]
    assert "plain/x.txt" in set(out["file"]) and set(out["prediction"]) <= set(WORDS)
    result = runner.invoke(main, ["predict", "pf/notes", "--data", str(new / "plain" / "x.txt")])
    assert result.exit_code == 0 and result.stdout.startswith("file,prediction") and "x.txt" in result.stdout
    csv = write_csv(tmp_path / "new.csv", n=9, seed=7)
    result = runner.invoke(main, ["predict", "pf/notes", "--data", str(csv), "--out", "q.csv"])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "q.csv")
    docs, labels = corpus(9, 7)
    assert len(out) == 9 and (out["prediction"] == labels).mean() > 0.6


def test_a_csv_project_reports_misclassified_rows_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_csv(tmp_path / "reviews.csv", n=60)
    frame = pd.read_csv(path)
    frame.loc[0, "review"] = "<script>alert(1)</script> " + frame.loc[0, "review"]
    frame.loc[0, "label"] = "plain" if frame.loc[0, "label"] != "plain" else "praise"  # an error
    frame.to_csv(path, index=False)
    project = make_project(tmp_path, path, "rev", ["--target", "label"])
    spec_file = project / "project.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    spec["algorithms"], spec["views"], spec["params"] = ["baseline", "nbsvm", "linear"], ["bow", "tfidf"], {}
    spec_file.write_text(yaml.safe_dump(spec))
    runner = CliRunner()
    result = runner.invoke(main, ["evaluate", str(project)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["report", str(project), "--portfolio", "pf"])
    assert result.exit_code == 0, result.output
    readme = (tmp_path / "pf" / "rev" / "README.md").read_text()
    assert "the weights of the final model" in readme and "Misclassified documents" in readme
    assert "row 1" in readme
    html = (tmp_path / "pf" / "rev" / "report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    result = runner.invoke(main, ["predict", "pf/rev", "--data", str(tmp_path / "reviews.csv"), "--out",
                                  "p.csv"])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == 60


# --------------------------------------------------------------------------- the real corpus


@pytest.mark.slow
def test_movie_review_polarity_nbsvm_reaches_its_published_level(shared_file, tmp_path, monkeypatch):
    """review_polarity (2,000 reviews): NBSVM on word bigrams >= 0.87 under 5-fold CV (published
    0.8945 under 10-fold), naive Bayes near its 0.83-0.86, the majority 0.5; the folder and the
    same reviews as a CSV are recognised alike."""
    archive = shared_file("review_polarity.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    folder = tmp_path / "txt_sentoken"
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["new", "reviews", "--template", "text", "--data", str(folder)]).exit_code == 0
    spec, project = load_spec(tmp_path / "projects" / "reviews")
    assert spec.reference is not None and spec.reference.good == 0.8945
    spec_file = project / "project.yaml"
    document = yaml.safe_load(spec_file.read_text())
    document["views"] = ["bow", "tfidf"]
    document["evaluation"] = {"folds": 5, "repeats": 1, "seed": 1}
    spec_file.write_text(yaml.safe_dump(document))
    result = runner.invoke(main, ["evaluate", str(project), "--only", "baseline,naive_bayes,nbsvm",
                                  "--json"])
    assert result.exit_code == 0, result.output
    rows = {(r["algorithm"], r["view"]): r["mean"] for r in json.loads(result.stdout)["rows"]}
    assert rows[("baseline", "bow")] == pytest.approx(0.5)
    assert rows[("nbsvm", "bow")] >= 0.87
    assert 0.80 <= rows[("naive_bayes", "bow")] <= 0.90

    docs = [(p.read_text(encoding="utf-8"), p.parent.name) for p in sorted(folder.rglob("*.txt"))]
    pd.DataFrame({"review": [d for d, _ in docs], "sentiment": [s for _, s in docs]}).to_csv(
        tmp_path / "reviews.csv", index=False)
    result = runner.invoke(main, ["new", "reviews_csv", "--template", "text", "--data",
                                  str(tmp_path / "reviews.csv"), "--target", "sentiment"])
    assert result.exit_code == 0, result.output
    csv_spec, _ = load_spec(tmp_path / "projects" / "reviews_csv")
    assert csv_spec.text.column == "review" and csv_spec.reference == spec.reference


def test_saved_text_models_load_without_running_code(tmp_path):
    """Every text view with the nets and NBSVM: saved as model files (skops + .keras) and loaded
    back with only trusted types, predicting the same."""
    from dlrun.catalogue import KINDS
    from dlrun.evaluation.candidates import Candidate, build_estimator
    from dlrun.evaluation.runner import build_context
    from dlrun.modelfile import load_model, save_model

    dataset = KINDS.get("text").example("classification")
    ctx = build_context(dataset, "accuracy", seed=1)
    y = dataset.encoded_target()
    for algorithm, view in (("cnn", "tokens"), ("lstm", "tokens"), ("nbsvm", "char_tfidf"),
                            ("xgboost", "tfidf"), ("mlp", "bow")):
        params = FAST.get(algorithm, {})
        pipeline = build_estimator(Candidate(algorithm, view, params), ctx, dataset.roles, "text")
        pipeline.fit(dataset.X, y)
        entry = tmp_path / f"{algorithm}-{view}"
        save_model(entry, pipeline, {"kind": "text", "task": "classification"})
        loaded = load_model(entry)["pipeline"]
        np.testing.assert_allclose(loaded.predict(dataset.X), pipeline.predict(dataset.X))


def test_the_example_project_is_generated_and_valid(tmp_path):
    """projects/support-tickets: generate.py rewrites data.csv byte for byte; the spec is valid."""
    import runpy

    from tests.conftest import REPO

    folder = REPO / "projects" / "support-tickets"
    module = runpy.run_path(str(folder / "generate.py"))
    out = tmp_path / "data.csv"
    module["write"](out)
    assert out.read_bytes() == (folder / "data.csv").read_bytes()
    spec, _ = load_spec(folder)
    assert spec.kind == "text" and spec.text.column == "ticket" and spec.data.target == "team"
    dataset = text_data.load_text_dataset(spec, folder)
    assert dataset.n_rows == 900 and dataset.classes == ["account", "billing", "technical"]
