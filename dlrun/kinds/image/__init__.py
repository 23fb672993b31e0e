"""Images (``kind: image``): classification of pictures.

Importing this package is light; each method imports NumPy, Pillow,
scikit-learn or Keras when it is called:

* data: :func:`dlrun.kinds.image.data.load_image_dataset` (a folder of class
  sub-folders, an ``.npz``, ``sklearn:digits``); the ``images:`` block of
  project.yaml (:mod:`.spec`);
* views ``pixels`` and ``augment`` (:mod:`.views`), read by the classical models
  as a table and by the convolutional net as a grid;
* resampling: stratified k-fold with a lighter default protocol (:func:`image_planner`);
* ``dlrun new``: :mod:`.scaffold`; ``dlrun predict``: :mod:`.predict`;
* the report's own section: :mod:`.report`.
"""

from __future__ import annotations

from typing import Any

from dlrun.kind import Kind

NAME = "image"
SPEC_HEADER = """\
# dlrun project spec (made by `dlrun new`; edit freely, then run `dlrun validate`).
#   name / description  what the project is called and is about
#   kind / task         image / classification: which class a picture shows
#   data.source         the pictures: a folder with one sub-folder per class, an .npz file
#                       with arrays x and y, or sklearn:digits (relative to this folder)
#   data.target         the name given to the label
#   metric              ranks the leaderboard (accuracy, balanced_accuracy, f1, roc_auc, log_loss)
#   views               pixels (every model), augment (the CNN with random flips, shifts, rotations)
#   images              the size every picture is resized to, channels, augmentation
#   evaluation          stratified k-fold cross-validation: folds x repeats, seed
#   reference           published naive and good scores of a recognised standard dataset
"""
#: The default protocol for images when project.yaml does not set one: a
#: convolutional net costs far more per fit than the tabular models, and image
#: sets are larger, so 5 folds x 1 repeat (stratified) rather than 10 x 3.
IMAGE_FOLDS = 5
IMAGE_REPEATS = 1


def image_planner(spec, dataset, quick: bool):
    """Repeated stratified k-fold; unset folds/repeats default to 5 x 1 (see IMAGE_FOLDS)."""
    from dlrun.evaluation.resampling import choose_protocol, kfold_plan

    ev = spec.evaluation
    explicit = ev.model_fields_set
    folds = ev.folds if "folds" in explicit else IMAGE_FOLDS
    repeats = ev.repeats if "repeats" in explicit else IMAGE_REPEATS
    folds, repeats, notes = choose_protocol(dataset.n_rows, folds, repeats, explicit=explicit, quick=quick)
    plan = kfold_plan(dataset.encoded_target(), spec.task, folds, repeats, ev.seed)
    plan.notes[:0] = notes
    return plan


class ImageKind(Kind):
    name = NAME
    description = "pictures, one class each (a folder of class sub-folders, an .npz, sklearn:digits)"
    tasks = ("classification",)
    block = "images"
    rank = 1
    formats = ("npz", "images")
    trusted_types = ("dlrun.kinds.image.pixels.ImagePixels",)
    data_help = "a folder of class sub-folders, an .npz with arrays x and y, or sklearn:digits"

    def block_model(self):
        from dlrun.kinds.image.spec import ImageSpec

        return ImageSpec

    def draft(self, request):
        from dlrun.kinds.image.scaffold import infer_image

        return infer_image(request)

    def spec_header(self) -> str:
        return SPEC_HEADER

    def task_phrase(self, task: str) -> str:
        return "classification: which class a picture shows"

    def load(self, spec, project_dir):
        from dlrun.kinds.image.data import load_image_dataset

        return load_image_dataset(spec, project_dir)

    def plan(self, spec, dataset, quick: bool):
        return image_planner(spec, dataset, quick)

    def summary(self, dataset) -> dict[str, Any]:
        from dlrun.data.dataset import basic_summary

        summary = basic_summary(dataset)
        meta = dataset.meta
        summary.update(image_size="x".join(str(s) for s in meta.get("image_size", [])),
                       channels=meta.get("channels"))
        return summary

    def describe(self, summary) -> str:
        colour = "greyscale" if summary.get("channels") == 1 else "colour"
        return f"{summary['rows']} images of {summary['image_size']} pixels, {colour}"

    def read_inputs(self, bundle, path):
        from dlrun.kinds.image.predict import read_images_for_model

        return read_images_for_model(bundle, path)

    def predict_hint(self) -> str:
        return "new-images/"

    def report_sections(self, context) -> list:
        """The out-of-fold confusion matrix and sample grid, and a net's training curves."""
        from dlrun.kinds.image.report import image_sections

        return image_sections(context)

    def example(self, task: str, rows: int = 60, seed: int = 0):
        """8x8 greyscale pictures of three classes: a bright top, a bright bottom, noise."""
        import numpy as np
        import pandas as pd

        from dlrun.kinds.image.data import ImageDataset

        rng = np.random.default_rng(seed)
        y = np.arange(rows) % 3
        X = rng.integers(0, 60, size=(rows, 8, 8, 1)).astype(np.uint8)
        X[y == 0, :4] += 150
        X[y == 1, 4:] += 150
        labels = pd.Series(np.array(["top", "bottom", "noise"], dtype=object)[y], name="label")
        meta = {"image_size": [8, 8], "channels": 1,
                "context": {"input_shape": [8, 8, 1],
                            "augment": {"flip": "none", "shift": 0.1, "rotation": 0.0}}}
        return ImageDataset(X, labels, task, NAME, meta=meta)


KIND = ImageKind()
