"""Text views, each fitted on the training fold's documents only.

* ``bow`` -- binary bag of words (word n-grams present or not), *sparse*;
* ``counts`` -- occurrences of each word n-gram, *sparse*;
* ``tfidf`` -- sublinear TF-IDF of word n-grams (rows of unit length), *sparse*;
* ``char_tfidf`` -- sublinear TF-IDF of character n-grams inside word boundaries
  (robust to spelling, morphology and tokenisation), *sparse*;
* ``tokens`` -- each document as padded word ids (*tokens*) for the embedding nets.

Vocabulary size, minimum document frequency, n-gram ranges, sequence length and
the token vocabulary come from the ``text:`` block of project.yaml: the kind gives
them to the view when it assembles a candidate (:func:`text_pipeline`), through
the build context's ``meta["documents"]``.
"""

from __future__ import annotations

from dlrun.catalogue import SPARSE, TOKENS, ViewInfo

KIND = "text"


def _terms(weighting: str, analyzer: str = "word"):
    def build(roles=None):
        from dlrun.kinds.text.vectorizers import TermWeights

        return TermWeights(weighting=weighting, analyzer=analyzer)

    return build


def _tokens(roles=None):
    from dlrun.kinds.text.vectorizers import TokenIds

    return TokenIds()


def configure(view, settings) -> None:
    """Give a text view the spec's settings (``meta["documents"]``, see :mod:`.data`)."""
    if not settings:
        return
    if hasattr(view, "max_tokens"):  # the token ids
        view.set_params(max_tokens=settings["sequence_vocabulary"], length=settings["sequence_length"],
                        lowercase=settings["lowercase"], column=settings.get("column"))
    elif getattr(view, "analyzer", "word") == "word":
        view.set_params(ngram_range=tuple(settings["ngrams"]), min_df=settings["min_df"],
                        max_features=settings["vocabulary"], lowercase=settings["lowercase"],
                        column=settings.get("column"))
    else:
        view.set_params(ngram_range=tuple(settings["char_ngrams"]), min_df=settings["min_df"],
                        max_features=settings["char_vocabulary"], lowercase=settings["lowercase"],
                        column=settings.get("column"))


def text_pipeline(candidate, context, roles):
    """``Pipeline([view, model])`` with the view configured from the spec."""
    from sklearn.pipeline import Pipeline

    from dlrun.catalogue import ALGORITHMS, VIEWS

    view = VIEWS.get(candidate.view).build(dict(roles))
    configure(view, context.meta.get("documents"))
    model = ALGORITHMS.get(candidate.algorithm).make(context, candidate.params)
    return Pipeline([("view", view), ("model", model)])


BOW = ViewInfo("bow", _terms("binary"), KIND, (SPARSE,), {"weighting": "binary"},
               "binary bag of words: which word n-grams a document holds", rank=0)
COUNTS = ViewInfo("counts", _terms("counts"), KIND, (SPARSE,), {"weighting": "counts"},
                  "word n-gram counts", rank=1)
TFIDF = ViewInfo("tfidf", _terms("tfidf"), KIND, (SPARSE,), {"weighting": "tfidf"},
                 "sublinear TF-IDF of word n-grams, rows of unit length", rank=2)
CHAR_TFIDF = ViewInfo("char_tfidf", _terms("tfidf", "char_wb"), KIND, (SPARSE,), {"weighting": "tfidf"},
                      "sublinear TF-IDF of character n-grams inside word boundaries", rank=3)
TOKENS_VIEW = ViewInfo("tokens", _tokens, KIND, (TOKENS,), {},
                       "word ids (a Keras TextVectorization adapted on the training fold), padded",
                       rank=4)
