"""Keras 3 (TensorFlow backend) nets as scikit-learn estimators.

* ``estimator``: the scikit-learn contract every net shares (:class:`KerasEstimator`,
  its classifier and regressor bases, persistence in the Keras native format);
* ``params``: the one declaration of the shared training parameters
  (:class:`TrainingParams`) and the helper that writes each net's ``__init__``;
* ``trainers``: the trainer interface (``fit``, and ``fit_many`` where several folds
  train in one call) with its two implementations: the compiled per-net loop and the
  stacked trainer (``stacked``: one MLP per fold in one compiled graph);
* ``blocks``: layer blocks several nets share; ``backend``: the quiet Keras import;
* the nets: ``mlp`` (stacked trainer), ``cnn``, ``cnn1d``, ``lstm`` (compiled loop),
  each declaring only its architecture, its training defaults and its trainer.

Every fit leaves ``curves_`` (per-epoch loss, validation loss and metric) on the net.
Nothing here imports TensorFlow until a net is trained or built.
"""
