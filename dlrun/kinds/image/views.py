"""Image views: pixels scaled to [0, 1] and flattened, fitted on the training fold.

* ``pixels`` -- provides a table (the classical models and the MLP read the
  flattened pixels) and a grid (the CNN reshapes them back to ``(h, w, c)``;
  its builder is given the image shape).
* ``augment`` -- the same pixels as a grid only, with the trait ``augment``:
  a net that reads it adds random flips, shifts and rotations (Keras
  preprocessing layers at the model input, active only while training: they
  never touch a test fold or a prediction). The augmentation is
  ``images.augment`` in project.yaml.

The scale is learnt from the training fold: 255 for 8-bit images, otherwise
the largest training value (16 for scikit-learn's digits).
"""

from __future__ import annotations

from dlrun.catalogue import GRID, TABLE, ViewInfo

KIND = "image"


def _pixels(roles):
    from dlrun.kinds.image.pixels import ImagePixels

    return ImagePixels()


PIXELS = ViewInfo("pixels", _pixels, KIND, (TABLE, GRID), {}, "pixels scaled to [0, 1], flattened", rank=0)
AUGMENT = ViewInfo("augment", _pixels, KIND, (GRID,), {"augment": True},
                   "scaled pixels; a net adds random flips, shifts and rotations while training", rank=1)
