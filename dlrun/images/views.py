"""Image views: pixels scaled to [0, 1] and flattened, fitted on the training fold.

* ``pixels`` -- every algorithm: the classical models and the MLP read the
  flattened pixels; the CNN reshapes them back to ``(h, w, c)`` (it is given
  the image shape by its builder).
* ``augment`` -- the same pixels for the CNN, which then adds random flips,
  shifts and rotations (Keras preprocessing layers at the model input, active
  only while training: they never touch a test fold or a prediction). The
  augmentation is ``images.augment`` in project.yaml.

The scale is learnt from the training fold: 255 for 8-bit images, otherwise
the largest training value (16 for scikit-learn's digits).
"""

from __future__ import annotations

from dlrun.catalogue import view


@view("pixels", data_kinds=("image",), description="pixels scaled to [0, 1], flattened")
def pixels(numeric=None, categorical=None, params=None):
    from dlrun.images.pixels import ImagePixels

    return ImagePixels()


@view("augment", data_kinds=("image",), algorithms=frozenset({"cnn"}),
      description="scaled pixels; the CNN adds random flips, shifts and rotations while training")
def augment(numeric=None, categorical=None, params=None):
    from dlrun.images.pixels import ImagePixels

    return ImagePixels()
