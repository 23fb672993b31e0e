"""Keras 3 (TensorFlow backend) nets as scikit-learn estimators.

``estimator.KerasEstimator`` holds the shared training loop (graph-compiled,
early stopping on a split of the training fold only) and serialization in the
Keras native format; each net (``mlp.py``, later CNN and LSTM) only says how to
build its layers. Nothing here is imported until a net is built.
"""
