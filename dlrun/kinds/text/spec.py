"""The ``text:`` block of project.yaml (kind: text): the text column and the views' settings."""

from pydantic import Field, field_validator

from dlrun.spec import StrictModel


def _ngram_range(value: list[int] | None, low: int, high: int) -> list[int] | None:
    if value is None:
        return value
    if value[0] > value[1]:
        raise ValueError("give [shortest, longest] with shortest <= longest")
    if value[0] < low or value[1] > high:
        raise ValueError(f"n-gram lengths must be between {low} and {high}")
    return value


class TextSpec(StrictModel):
    """How documents are read and turned into features (kind: text); every vocabulary,
    document frequency and token index is learnt on the training folds only."""

    column: str | None = Field(
        None, description="The column holding the documents in a CSV/Parquet source (default: the "
        "string column with the longest values); unused for a folder of .txt files."
    )
    vocabulary: int | None = Field(
        None, ge=10, description="Most frequent terms kept by the bow, counts and tfidf views "
        "(default: every term found in at least min_df training documents)."
    )
    min_df: int = Field(
        2, ge=1, description="A term must occur in at least this many training documents to be kept."
    )
    ngrams: list[int] = Field(
        default_factory=lambda: [1, 2], min_length=2, max_length=2,
        description="[shortest, longest] word n-grams of the bow, counts and tfidf views.",
    )
    char_ngrams: list[int] = Field(
        default_factory=lambda: [3, 5], min_length=2, max_length=2,
        description="[shortest, longest] character n-grams (inside word boundaries) of char_tfidf.",
    )
    char_vocabulary: int | None = Field(
        100_000, ge=10, description="Most frequent character n-grams kept by char_tfidf (null: all)."
    )
    lowercase: bool = Field(True, description="Lower-case the documents before counting terms.")
    sequence_length: int = Field(
        400, ge=4, le=5000, description="Words per document for the embedding nets (the tokens "
        "view): a longer document keeps its last words, a shorter one is padded at the start "
        "(`dlrun new` sizes it from the data)."
    )
    sequence_vocabulary: int = Field(
        20_000, ge=10, le=1_000_000, description="Most frequent words the tokens view keeps (others "
        "become one out-of-vocabulary id)."
    )

    @field_validator("ngrams")
    @classmethod
    def _words(cls, value: list[int]) -> list[int]:
        return _ngram_range(value, 1, 5)

    @field_validator("char_ngrams")
    @classmethod
    def _chars(cls, value: list[int]) -> list[int]:
        return _ngram_range(value, 1, 10)
