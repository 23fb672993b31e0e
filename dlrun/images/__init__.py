"""Images (``kind: image``): data sources, views, resampling, prediction and report content.

Importing this package only registers entries (light imports); each entry
imports NumPy, Pillow, scikit-learn or Keras when it is called:

* ``DATA_LOADERS["image"]`` -- :func:`dlrun.images.data.load_image_dataset`
  (a folder of class sub-folders, an ``.npz``, ``sklearn:digits``);
* ``VIEWS`` ``pixels`` and ``augment`` -- :mod:`dlrun.images.views`;
* ``PLANNERS["image"]`` -- stratified k-fold with a lighter default protocol
  (:func:`image_planner`);
* ``PREDICTORS["image"]`` -- :func:`dlrun.images.predict.read_images_for_model`;
* ``REPORT_SECTIONS["images"]`` -- :func:`dlrun.images.report.image_report`.
"""

from __future__ import annotations

from dlrun.catalogue import DATA_LOADERS, PLANNERS, PREDICTORS, REPORT_SECTIONS
from dlrun.images import views as _views  # noqa: F401  (registers pixels, augment)

KIND = "image"
#: The default protocol for images when project.yaml does not set one: a
#: convolutional net costs far more per fit than the tabular models, and image
#: sets are larger, so 5 folds x 1 repeat (stratified) rather than 10 x 3.
IMAGE_FOLDS = 5
IMAGE_REPEATS = 1


def load(spec, project_dir):
    from dlrun.images.data import load_image_dataset

    return load_image_dataset(spec, project_dir)


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


def predict_inputs(bundle, path):
    from dlrun.images.predict import read_images_for_model

    return read_images_for_model(bundle, path)


def report_section(context, pipeline, leaderboard):
    from dlrun.images.report import image_report

    return image_report(context, pipeline, leaderboard)


DATA_LOADERS.register(KIND, load)
PLANNERS.register(KIND, image_planner)
PREDICTORS.register(KIND, predict_inputs)
REPORT_SECTIONS.register("images", report_section)
