"""The multilayer perceptron on sparse term weights (a bag-of-words MLP).

The same net and the same stacked trainer as :mod:`dlrun.algorithms.keras.mlp` (the
folds of one candidate train together), reading a sparse matrix: the ``max_inputs``
columns that occur in the most training rows are kept (chosen on the rows passed to
``fit``, never on a test fold; ties by column order) and densified as ``log(1 + x)``
(counts stay tame; 0/1 and TF-IDF weights hardly change). The cap bounds the stacked
arrays: folds x training rows x ``max_inputs`` numbers (10 folds of 1,800 documents x
5,000 terms: 360 MB in float32).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from dlrun.algorithms.keras.mlp import MLPClassifier, MLPRegressor

#: Terms kept by default (the columns of the densified input).
MAX_INPUTS = 5_000


class _SparseInputs:
    """Reads sparse term weights: the most frequent columns of the training rows, densified."""

    def _prepare_x(self, X) -> np.ndarray:
        if not sp.issparse(X):
            X = sp.csr_matrix(np.asarray(X, dtype=np.float32))
        X = X.tocsr()
        if getattr(self, "columns_", None) is None:  # the first call of a fit: its training rows
            frequency = np.bincount(X.indices, minlength=X.shape[1])
            order = np.argsort(-frequency, kind="stable")[: int(self.max_inputs)]
            self.columns_ = np.sort(order)
        dense = X[:, self.columns_].toarray().astype(np.float32)
        np.log1p(np.maximum(dense, 0, out=dense), out=dense)
        return dense


class SparseMLPClassifier(_SparseInputs, MLPClassifier):
    architecture = {**MLPClassifier.architecture, "max_inputs": MAX_INPUTS}


class SparseMLPRegressor(_SparseInputs, MLPRegressor):
    architecture = {**MLPRegressor.architecture, "max_inputs": MAX_INPUTS}
