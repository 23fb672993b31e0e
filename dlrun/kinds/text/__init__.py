"""Documents (``kind: text``): classification of texts -- sentiment, topic, spam.

Written as a plugin from the start; importing this package is light (no pydantic,
NumPy, scikit-learn or TensorFlow: each method imports what it needs):

* data: :mod:`.data` -- a folder with one sub-folder of ``.txt`` files per class
  (UTF-8, else Windows-1252/Latin-1; a file that is not text is named), or a
  CSV/Parquet file with a text column and a label column; large folders are read
  lazily (:class:`.data.TextFiles`); the ``text:`` block of project.yaml (:mod:`.spec`);
* views (:mod:`.views`, transformers in :mod:`.vectorizers`), fitted on the training
  fold only: ``bow`` (binary), ``counts``, ``tfidf`` (word n-grams, sublinear tf),
  ``char_tfidf`` (character n-grams) provide a *sparse* matrix of term weights;
  ``tokens`` (a Keras ``TextVectorization`` adapted on the training fold) provides
  padded *token* ids for the embedding nets;
* algorithms: the core's ``baseline``, ``linear``, ``naive_bayes``, ``svm`` (linear),
  ``xgboost`` and ``mlp`` read the sparse views, ``cnn`` and ``lstm`` the token ids;
  this kind adds ``nbsvm`` (:mod:`.algorithms`, :mod:`.nbsvm`);
* resampling: stratified 10-fold x 1 (:func:`text_planner`); the view's settings
  (vocabulary, n-grams, sequence length) come from the spec through
  :meth:`TextKind.estimator`;
* ``dlrun new``: :mod:`.scaffold`; ``dlrun predict``: :mod:`.predict`; the report's
  sections (informative words, confusion matrix, misclassified documents, lengths):
  :mod:`.report`.
"""

from __future__ import annotations

from typing import Any

from dlrun.kind import Kind

NAME = "text"
#: The default protocol when project.yaml does not set one: 10-fold cross-validation
#: once (the protocol of the published results on the classic text sets).
TEXT_FOLDS = 10
TEXT_REPEATS = 1

SPEC_HEADER = """\
# dlrun project spec (made by `dlrun new`; edit freely, then run `dlrun validate`).
#   name / description  what the project is called and is about
#   kind / task         text / classification: which class a document belongs to
#   data.source         the documents: a folder with one sub-folder of .txt files per class,
#                       or a CSV/Parquet file with a text column and a label column
#   data.target         the label (the sub-folder name, or the CSV's label column)
#   metric              ranks the leaderboard (accuracy, balanced_accuracy, f1, roc_auc, log_loss)
#   views               bow, counts, tfidf, char_tfidf (sparse term weights), tokens (word ids
#                       for the embedding nets); each fitted on the training folds only
#   text                the text column, vocabulary size, minimum document frequency,
#                       n-gram ranges, sequence length and vocabulary of the token view
#   evaluation          stratified k-fold cross-validation: folds x repeats, seed
#   reference           published naive and good scores of a recognised standard dataset
"""

_MODULE = "dlrun.kinds.text"


def text_planner(spec, dataset, quick: bool):
    """Repeated stratified k-fold; unset folds/repeats default to 10 x 1."""
    from dlrun.evaluation.resampling import choose_protocol, kfold_plan

    ev = spec.evaluation
    explicit = ev.model_fields_set
    folds = ev.folds if "folds" in explicit else TEXT_FOLDS
    repeats = ev.repeats if "repeats" in explicit else TEXT_REPEATS
    folds, repeats, notes = choose_protocol(dataset.n_rows, folds, repeats, explicit=explicit, quick=quick)
    plan = kfold_plan(dataset.encoded_target(), spec.task, folds, repeats, ev.seed)
    plan.notes[:0] = notes
    return plan


class TextKind(Kind):
    name = NAME
    description = ("documents, one class each (a folder of class sub-folders of .txt files, or a "
                   "CSV/Parquet file with a text column)")
    tasks = ("classification",)
    block = "text"
    rank = 3
    new_options = ("text",)
    formats = ("documents",)
    trusted_types = (
        f"{_MODULE}.vectorizers.TermWeights",
        f"{_MODULE}.vectorizers.TokenIds",
        f"{_MODULE}.nbsvm.NBSVMClassifier",
    )
    data_help = ("a folder with one sub-folder of .txt files per class, or a CSV/Parquet file with "
                 "a text column (--text COL, default the longest) and a label column (--target)")

    def block_model(self):
        from dlrun.kinds.text.spec import TextSpec

        return TextSpec

    def draft(self, request):
        from dlrun.kinds.text.scaffold import text_draft

        return text_draft(request)

    def spec_header(self) -> str:
        return SPEC_HEADER

    def task_phrase(self, task: str) -> str:
        return "classification: which class a document belongs to"

    def load(self, spec, project_dir):
        from dlrun.kinds.text.data import load_text_dataset

        return load_text_dataset(spec, project_dir)

    def plan(self, spec, dataset, quick: bool):
        return text_planner(spec, dataset, quick)

    def estimator(self, candidate, context, roles):
        """``Pipeline([view, model])``, the view given the spec's settings (``text:``)."""
        from dlrun.kinds.text.views import text_pipeline

        return text_pipeline(candidate, context, roles)

    def summary(self, dataset) -> dict[str, Any]:
        from dlrun.kinds.text.data import text_summary

        return text_summary(dataset)

    def describe(self, summary) -> str:
        lengths = summary.get("words") or {}
        return (f"{summary['rows']} documents, {lengths.get('median', '?')} words each (median; "
                f"{lengths.get('min', '?')} to {lengths.get('max', '?')}), "
                f"{len(summary.get('classes') or {})} classes")

    def read_inputs(self, bundle, path, *, keep=()):
        """Documents: a folder or file of them, or a column of a table (``keep``: columns of
        that table passed through, first)."""
        from dlrun.kinds.text.predict import read_documents_for_model

        return read_documents_for_model(bundle, path, keep=keep)

    def predict_hint(self) -> str:
        return "new-documents/"

    def report_sections(self, context) -> list:
        """Informative words, the out-of-fold confusion matrix, misclassified documents and
        the document lengths."""
        from dlrun.kinds.text.report import text_sections

        return text_sections(context)

    def example(self, task: str, rows: int = 60, seed: int = 0):
        """Tiny reviews of three classes: praise, complaints and plain descriptions."""
        from dlrun.kinds.text.data import example_dataset

        return example_dataset(rows, seed)


KIND = TextKind()
