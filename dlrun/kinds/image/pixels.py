"""The transformer behind the image views (imported only when a view is built)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class ImagePixels(TransformerMixin, BaseEstimator):
    """Scale pixels to [0, 1] (scale learnt on the training images) and flatten them."""

    def __init__(self, flatten: bool = True):
        self.flatten = flatten

    def fit(self, X, y=None):
        X = np.asarray(X)
        if X.ndim == 2:
            raise ValueError("image views expect images (n, h, w, c), not a table")
        self.image_shape_ = tuple(int(s) for s in X.shape[1:]) if X.ndim == 4 else (*X.shape[1:], 1)
        if X.dtype == np.uint8:
            self.input_max_ = 255.0
        else:
            top = float(np.max(X)) if X.size else 1.0
            self.input_max_ = top if top > 1.0 else 1.0
        self.n_features_in_ = int(np.prod(self.image_shape_))
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=np.float32) / np.float32(self.input_max_)
        X = np.clip(X, 0.0, 1.0, out=X)
        return X.reshape(len(X), -1) if self.flatten else X.reshape(len(X), *self.image_shape_)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"pixel{i}" for i in range(self.n_features_in_)], dtype=object)
