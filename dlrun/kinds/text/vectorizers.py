"""The transformers behind the text views (imported only when a view is built).

Both are fitted on the training fold's documents only (the evaluation fits the view
inside each fold): the vocabulary, the document frequencies and IDF weights of
:class:`TermWeights`, and the word index of :class:`TokenIds`, never see a test fold.
Both read any iterable of documents (an object array, a list, a lazy
:class:`dlrun.kinds.text.data.TextFiles`, which they stream through once).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from dlrun.kinds.text.data import iter_documents

#: Token ids the tokens view reserves: 0 pads a short document, 1 stands for any word
#: outside the vocabulary; the words are 2, 3, ... (most frequent first).
RESERVED_IDS = 2
#: Documents handed to TensorFlow at a time.
BATCH = 512


class TermMatrix(sp.csr_matrix):
    """A CSR matrix that says how many bytes it holds (``nbytes``, as a NumPy array does),
    so the evaluation's cache of fitted views can count it against its budget."""

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes + self.indices.nbytes + self.indptr.nbytes)


class TermWeights(TransformerMixin, BaseEstimator):
    """Documents as a sparse matrix of term weights, rows x vocabulary.

    ``weighting``: ``binary`` (1 when the term occurs), ``counts`` (occurrences) or
    ``tfidf`` (``1 + log(count)`` x IDF, rows scaled to unit length); ``analyzer``:
    ``word`` n-grams or ``char_wb`` (character n-grams inside word boundaries).
    ``max_features`` keeps the most frequent terms of the training documents (None: all
    that occur in at least ``min_df`` of them). ``column`` records the CSV column the
    documents came from (``dlrun predict`` reads the same one).
    """

    def __init__(self, weighting: str = "tfidf", analyzer: str = "word", ngram_range=(1, 2),
                 min_df: int = 2, max_features: int | None = None, lowercase: bool = True,
                 column: str | None = None):
        self.weighting = weighting
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.lowercase = lowercase
        self.column = column

    def _vectorizer(self, min_df: int):
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        common = dict(analyzer=self.analyzer, ngram_range=tuple(int(n) for n in self.ngram_range),
                      min_df=int(min_df), max_features=self.max_features, lowercase=bool(self.lowercase),
                      dtype=np.float32)
        if self.weighting == "tfidf":
            return TfidfVectorizer(sublinear_tf=True, **common)
        if self.weighting in ("binary", "counts"):
            return CountVectorizer(binary=self.weighting == "binary", **common)
        raise ValueError(f"unknown weighting {self.weighting!r} (binary, counts or tfidf)")

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        documents = X if _lazy(X) else list(iter_documents(X))
        try:
            self.vectorizer_ = self._vectorizer(self.min_df)
            out = self.vectorizer_.fit_transform(documents)
        except ValueError:  # too few documents for min_df (a tiny fold): keep every term
            self.vectorizer_ = self._vectorizer(1)
            try:
                out = self.vectorizer_.fit_transform(documents)
            except ValueError:
                raise ValueError("the training documents hold no words to count") from None
        self.n_terms_ = int(out.shape[1])
        return TermMatrix(out)

    def transform(self, X):
        return TermMatrix(self.vectorizer_.transform(X if _lazy(X) else list(iter_documents(X))))

    def get_feature_names_out(self, input_features=None):
        return self.vectorizer_.get_feature_names_out()


class TokenIds(TransformerMixin, BaseEstimator):
    """Documents as ``length`` token ids each (int32), from a Keras ``TextVectorization``
    adapted on the training documents: the ``max_tokens`` most frequent words get ids
    from 2 up, any other word 1 (:data:`RESERVED_IDS`).

    As Keras's ``pad_sequences`` does by default, a longer document keeps its *last*
    ``length`` words and a shorter one is padded with 0 at the start, so every document
    ends at the last position: a recurrent net reads it up to its final state without a
    mask, and a review's verdict (its end) is kept (on the movie reviews a CNN scored
    0.765 on the last 400 words against 0.680 on the first 400, one fold). The fitted
    view keeps only its vocabulary (a list of words): the layer is rebuilt from it."""

    def __init__(self, max_tokens: int = 20_000, length: int = 400, lowercase: bool = True,
                 column: str | None = None):
        self.max_tokens = max_tokens
        self.length = length
        self.lowercase = lowercase
        self.column = column

    def _layer(self, vocabulary=None):
        from dlrun.algorithms.keras.backend import tf_and_keras

        _, keras = tf_and_keras()
        return keras.layers.TextVectorization(
            max_tokens=int(self.max_tokens) + RESERVED_IDS if vocabulary is None else None,
            standardize="lower_and_strip_punctuation" if self.lowercase else "strip_punctuation",
            split="whitespace", output_mode="int", vocabulary=vocabulary)

    def fit(self, X, y=None):
        from dlrun.algorithms.keras.backend import tf_and_keras

        tf, _ = tf_and_keras()
        layer = self._layer()
        batches = tf.data.Dataset.from_generator(
            lambda: _batches(X), output_signature=tf.TensorSpec(shape=(None,), dtype=tf.string))
        layer.adapt(batches)
        vocabulary = [str(w) for w in layer.get_vocabulary()[RESERVED_IDS:]]
        self.vocabulary_ = vocabulary
        self.n_words_ = len(vocabulary)
        return self

    def transform(self, X):
        from dlrun.algorithms.keras.backend import tf_and_keras

        tf, _ = tf_and_keras()
        vocabulary = list(self.vocabulary_) or ["[none]"]
        layer = self._layer(vocabulary)
        length = int(self.length)
        parts = [_last_words(np.asarray(layer(tf.constant(batch)), dtype=np.int32), length)
                 for batch in _batches(X)]
        if not parts:
            return np.zeros((0, length), dtype=np.int32)
        return np.concatenate(parts)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"token{i}" for i in range(int(self.length))], dtype=object)


def _last_words(ids: np.ndarray, length: int) -> np.ndarray:
    """Rows of ids (words first, then 0s) as their last ``length`` words, padded at the start."""
    out = np.zeros((len(ids), length), dtype=np.int32)
    if ids.ndim != 2 or not ids.shape[1]:
        return out
    counts = (ids != 0).sum(axis=1)
    for i, n in enumerate(counts):
        kept = ids[i, max(0, n - length):n]
        if len(kept):
            out[i, length - len(kept):] = kept
    return out


def _lazy(X) -> bool:
    from dlrun.kinds.text.data import TextFiles

    return isinstance(X, TextFiles)


def _batches(X):
    batch = []
    for document in iter_documents(X):
        batch.append(document)
        if len(batch) == BATCH:
            yield np.asarray(batch, dtype=object)
            batch = []
    if batch:
        yield np.asarray(batch, dtype=object)
