"""Importing Keras (TensorFlow backend) quietly, once, only when a net is built."""

from __future__ import annotations

import os
import sys

_CONFIGURED = False


def import_keras():
    """Import Keras on TensorFlow, without TensorFlow's start-up chatter on stderr.

    TensorFlow's C++ runtime logs lines such as "Could not find cuda drivers"
    before its log level is read, so the environment cannot silence them; we
    point file descriptor 2 at /dev/null for the duration of the first import.
    Python exceptions are unaffected (they are raised after it is restored).
    """
    if "keras" in sys.modules and "tensorflow" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = None
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        saved = None
    try:
        import keras
        import tensorflow as tf  # noqa: F401
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
    tf.get_logger().setLevel("ERROR")
    return keras


def tf_and_keras():
    """TensorFlow and Keras, with TensorFlow's thread pools sized from ``DLRUN_THREADS``
    (or ``OMP_NUM_THREADS``) on the first call, if its runtime has not started yet."""
    global _CONFIGURED
    keras = import_keras()
    import tensorflow as tf

    if not _CONFIGURED:
        _CONFIGURED = True
        threads = os.environ.get("DLRUN_THREADS") or os.environ.get("OMP_NUM_THREADS")
        if threads and threads.isdigit():
            try:  # only possible before TensorFlow's runtime starts
                tf.config.threading.set_intra_op_parallelism_threads(int(threads))
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:
                pass
    return tf, keras
