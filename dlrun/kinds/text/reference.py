"""Standard text datasets recognised by their content, with their published scores.

A corpus is recognised by the words of its documents (an order-free digest of each
document with its whitespace normalised: :func:`dlrun.kinds.text.documents.content_signature`)
and its class sizes, never by a file or folder name: the movie reviews as a folder of
``.txt`` files and as a CSV column are the same corpus.
"""

from __future__ import annotations

from typing import Any

from dlrun.kinds.text.documents import content_signature

#: signature -> (sorted class sizes, the spec's ``reference`` block)
KNOWN: dict[str, tuple[list[int], dict[str, Any]]] = {
    "2e2a26cadc57efd3": ([1000, 1000], {
        "dataset": "Movie review polarity v2.0 (Pang & Lee 2004)",
        "metric": "accuracy",
        "protocol": "10-fold cross-validation",
        "naive": 0.5,
        "good": 0.8945,
        "good_model": "NBSVM on word uni- and bigrams (Wang & Manning 2012); multinomial naive "
                      "Bayes 0.8345-0.8585, linear SVM on bigrams 0.874",
        "source": "S. Wang and C. D. Manning, Baselines and Bigrams: Simple, Good Sentiment and Topic "
                  "Classification, ACL 2012 (table 3, RT-2k); B. Pang and L. Lee, ACL 2004",
    }),
}


def recognise(digests, counts: dict[Any, int]) -> dict[str, Any] | None:
    """The ``reference`` block of a known corpus (None when it is not one)."""
    digests = list(digests)
    if not digests:
        return None
    sizes = sorted(int(n) for n in counts.values())
    for signature, (known_sizes, reference) in KNOWN.items():
        if sizes == known_sizes and content_signature(digests) == signature:
            return dict(reference)
    return None
