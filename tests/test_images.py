"""Image projects: sources, lazy reading, scaffold, views, CNN, report and predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from dlrun.cli import main
from dlrun.kinds.image import data as image_data
from dlrun.spec import load_spec, parse_spec


def _write_pngs(root: Path, per_class: int = 6, size: int = 10, modes=("L",)) -> Path:
    """Two visually distinct classes: a bright left half ('left') or right half ('right')."""
    rng = np.random.default_rng(0)
    for label in ("left", "right"):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            side = size + (i % 3) * 3  # mixed sizes
            arr = rng.integers(0, 40, (side, side)).astype(np.uint8)
            if label == "left":
                arr[:, : side // 2] = 220
            else:
                arr[:, side // 2 :] = 220
            mode = modes[i % len(modes)]
            img = Image.fromarray(arr, "L")
            if mode != "L":
                img = img.convert(mode)
            suffix = ".jpg" if mode == "RGB" and i % 2 else ".png"
            img.save(root / label / f"{i}{suffix}")
    return root


def _spec(source: str, **images) -> object:
    data = {"name": "t", "kind": "image", "task": "classification",
            "data": {"source": source, "target": "label"}, "metric": "accuracy",
            "evaluation": {"folds": 2, "repeats": 1}}
    if images:
        data["images"] = images
    return parse_spec(data)


# --------------------------------------------------------------------------- sources


def test_folder_loader_resizes_mixed_sizes_and_modes(tmp_path):
    folder = _write_pngs(tmp_path / "imgs", modes=("L", "RGB", "RGBA", "P"))
    ds = image_data.load_image_dataset(_spec(str(folder), image_size=[12, 14], channels=1), tmp_path)
    assert ds.kind == "image" and ds.X.shape == (12, 12, 14, 1) and ds.X.dtype == np.uint8
    assert ds.classes == ["left", "right"] and ds.y.tolist().count("left") == 6
    assert ds.meta["image_size"] == [12, 14] and ds.meta["channels"] == 1
    assert ds.meta["context"]["input_shape"] == [12, 14, 1]
    left = ds.X[ds.y.to_numpy() == "left"].mean(axis=(0, 3))
    assert left[:, :5].mean() > 150 > left[:, -5:].mean()  # content survives the resize
    colour = image_data.load_image_dataset(_spec(str(folder), image_size=[8, 8], channels=3), tmp_path)
    assert colour.X.shape == (12, 8, 8, 3)
    assert len(ds.fingerprint()) == 16 and ds.fingerprint() != colour.fingerprint()


def test_npz_loader_and_integer_labels(tmp_path):
    x = np.random.default_rng(1).integers(0, 255, (20, 6, 6)).astype(np.uint8)
    y = np.array(["3", "10"] * 10)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    ds = image_data.load_image_dataset(_spec("d.npz"), tmp_path)
    assert ds.X.shape == (20, 6, 6, 1) and ds.classes == [3, 10]  # numbers sort as numbers
    resized = image_data.load_image_dataset(_spec("d.npz", image_size=[9, 9]), tmp_path)
    assert resized.X.shape == (20, 9, 9, 1) and resized.X.dtype == np.uint8


def test_folder_is_read_lazily(tmp_path, monkeypatch):
    folder = _write_pngs(tmp_path / "imgs", per_class=8)
    calls = []
    real = image_data.read_image
    monkeypatch.setattr(image_data, "read_image", lambda *a: calls.append(a[0]) or real(*a))
    monkeypatch.setattr(image_data, "EAGER_MAX_BYTES", 0)
    ds = image_data.load_image_dataset(_spec(str(folder), image_size=[8, 8], channels=1), tmp_path)
    assert isinstance(ds.X, image_data.ImageFiles) and calls == []  # nothing decoded up front
    assert ds.X.shape == (16, 8, 8, 1) and len(ds.X) == 16
    batch = ds.X[np.array([0, 5, 9])]
    assert batch.shape == (3, 8, 8, 1) and len(calls) == 3
    import pickle

    assert pickle.loads(pickle.dumps(ds.X)).paths == ds.X.paths  # workers get paths, not pixels


def test_bad_sources_are_data_errors(tmp_path):
    from dlrun.errors import DataError

    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError):
        image_data.load_image_dataset(_spec("empty"), tmp_path)
    np.savez(tmp_path / "bad.npz", images=np.zeros((2, 4, 4)))
    with pytest.raises(DataError, match="x and y"):
        image_data.load_image_dataset(_spec("bad.npz"), tmp_path)


# --------------------------------------------------------------------------- scaffold


def test_new_image_project_from_folder_validates(tmp_path):
    folder = _write_pngs(tmp_path / "imgs", size=30, modes=("L", "RGB"))
    runner = CliRunner()
    result = runner.invoke(main, ["new", "shapes", "--template", "image", "--data", str(folder),
                                  "--dir", str(tmp_path / "projects")])
    assert result.exit_code == 0, result.output
    spec, _ = load_spec(tmp_path / "projects" / "shapes")
    assert spec.kind == "image" and spec.task == "classification" and spec.metric == "accuracy"
    assert spec.images.image_size == [30, 30] and spec.images.channels == 1  # grey RGB is grey
    result = runner.invoke(main, ["validate", str(tmp_path / "projects" / "shapes")])
    assert result.exit_code == 0 and "12 images" in result.output


def test_new_image_project_digits_and_npz(tmp_path):
    from dlrun.scaffold import new_project

    path = new_project("digits", template="image", data="sklearn:digits", directory=tmp_path)
    spec, _ = load_spec(path)
    assert spec.images.image_size == [8, 8] and spec.reference.good == 0.97
    assert spec.images.augment.flip == "none"
    np.savez(tmp_path / "d.npz", x=np.zeros((10, 5, 5, 3), np.uint8), y=np.arange(10) % 2)
    path = new_project("npz", template="image", data=str(tmp_path / "d.npz"), directory=tmp_path)
    spec, _ = load_spec(path)
    assert spec.images.channels == 3 and spec.data.source == "../d.npz"


def test_images_key_needs_kind_image():
    from dlrun.errors import SpecError

    with pytest.raises(SpecError, match="images"):
        parse_spec({"name": "t", "task": "classification", "data": {"source": "a.csv", "target": "y"},
                    "metric": "accuracy", "images": {"channels": 1}})


# --------------------------------------------------------------------------- views and nets


def test_pixels_view_scales_on_the_training_fold():
    from dlrun.kinds.image.pixels import ImagePixels

    x = np.array([[[[0], [8]], [[16], [4]]]], dtype=np.float32)
    view = ImagePixels().fit(x)
    assert view.input_max_ == 16.0 and view.image_shape_ == (2, 2, 1)
    np.testing.assert_allclose(view.transform(x), [[0, 0.5, 1.0, 0.25]])
    assert ImagePixels().fit(x.astype(np.uint8)).input_max_ == 255.0


def test_cnn_scales_depth_and_augmentation_is_inactive_at_inference():
    from dlrun.algorithms.keras.cnn import CNNClassifier, n_blocks

    assert [n_blocks(s, s) for s in (8, 24, 32, 64, 224)] == [1, 2, 3, 4, 4]
    rng = np.random.default_rng(0)
    X = rng.random((40, 8 * 8)).astype(np.float32)
    y = (X[:, :32].mean(axis=1) > X[:, 32:].mean(axis=1)).astype(int)
    net = CNNClassifier(input_shape=(8, 8, 1), n_classes=2, epochs=4, filters=8, dense=8,
                        augment={"flip": "horizontal", "shift": 0.2, "rotation": 0.1}).fit(X, y)
    names = [layer.name for layer in net.model_.layers]
    assert {"aug_flip", "aug_shift", "aug_rotation"} <= set(names)
    np.testing.assert_array_equal(net.predict_proba(X), net.predict_proba(X))
    assert len(net.curves_["epoch"]) == net.epochs_trained_ == 4
    assert set(net.curves_) >= {"loss", "val_loss", "val_metric"}


# --------------------------------------------------------------------------- end to end


def test_evaluate_report_and_predict_on_a_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = _write_pngs(tmp_path / "imgs", per_class=10, size=8)
    runner = CliRunner()
    assert runner.invoke(main, ["new", "lr", "--template", "image", "--data", str(folder)]).exit_code == 0
    spec_file = tmp_path / "projects" / "lr" / "project.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    spec["algorithms"] = ["baseline", "cnn"]
    spec["params"] = {"cnn": {"epochs": 2, "filters": 4, "dense": 8}}
    spec["evaluation"] = {"folds": 2, "repeats": 1, "seed": 1}
    spec_file.write_text(yaml.safe_dump(spec))
    result = runner.invoke(main, ["evaluate", str(spec_file.parent), "--json"])
    assert result.exit_code == 0, result.output
    board = json.loads(result.stdout)
    assert {(r["algorithm"], r["view"]) for r in board["rows"]} == {
        ("baseline", "pixels"), ("cnn", "pixels"), ("cnn", "augment")}  # augment: the CNN only

    result = runner.invoke(main, ["report", str(spec_file.parent), "--portfolio", "pf"])
    assert result.exit_code == 0, result.output
    readme = (tmp_path / "pf" / "lr" / "README.md").read_text()
    assert "## Images: out-of-fold predictions" in readme  # stored predictions, no refit
    assert "Confusion matrix of the out-of-fold predictions" in readme
    assert "Training curves of cnn" in readme and "figures/curves.png" in readme

    new = tmp_path / "new"
    _write_pngs(new, per_class=2, size=16)  # other sizes: resized like the training images
    result = runner.invoke(main, ["predict", "pf/lr", "--data", str(new), "--out", "p.csv"])
    assert result.exit_code == 0, result.output
    import pandas as pd

    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns[:2]) == ["file", "prediction"] and len(out) == 4
    assert set(out["prediction"]) <= {"left", "right"}
    assert out["file"].str.split("/").str[0].tolist() == ["left", "left", "right", "right"]

    x = np.stack([np.asarray(Image.open(p).resize((11, 11))) for p in sorted((new / "left").glob("*"))])
    np.savez(tmp_path / "new.npz", x=x)
    result = runner.invoke(main, ["predict", "pf/lr", "--data", "new.npz"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("prediction")


# --------------------------------------------------------------------------- acceptance (slow)


def write_digit_pngs(root: Path, size: int = 24) -> Path:
    """scikit-learn's digits as 8-bit PNGs, enlarged to size x size, one folder per class."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    for i, (img, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        arr = (img * (255.0 / 16.0)).round().astype(np.uint8)
        Image.fromarray(arr, "L").resize((size, size), Image.Resampling.BILINEAR).save(
            root / str(label) / f"{i:04d}.png")
    return root


def _evaluate_cnn(tmp_path, data: str, folds: int = 3) -> dict:
    from dlrun import api
    from dlrun.scaffold import new_project

    path = new_project("d", template="image", data=data, directory=tmp_path / "projects")
    spec = yaml.safe_load((path / "project.yaml").read_text())
    spec["views"] = ["pixels"]
    spec["evaluation"] = {"folds": folds, "repeats": 1, "seed": 1}
    (path / "project.yaml").write_text(yaml.safe_dump(spec))
    return api.evaluate(path, only=["baseline", "cnn"])


@pytest.mark.slow
def test_digits_cnn_reaches_097(tmp_path):
    board = _evaluate_cnn(tmp_path, "sklearn:digits")
    cnn = next(r for r in board["rows"] if r["algorithm"] == "cnn")
    assert cnn["mean"] >= 0.97, board["rows"]


@pytest.mark.slow
def test_digit_pngs_24px_cnn_reaches_095(tmp_path):
    folder = write_digit_pngs(tmp_path / "digits24")
    board = _evaluate_cnn(tmp_path, str(folder))
    cnn = next(r for r in board["rows"] if r["algorithm"] == "cnn")
    assert cnn["mean"] >= 0.95, board["rows"]
