"""Layer blocks that several nets share (public: the net modules import them from here)."""

from __future__ import annotations


def l2_penalty(l2, keras):
    """The kernel regularizer for an L2 weight ``l2`` (None when 0)."""
    return keras.regularizers.L2(l2) if l2 else None


def dense_head(x, net, keras):
    """What a sequence net puts between its feature extractor and the output layer:
    dropout (``net.dropout``, when set), then a ReLU Dense layer of ``net.dense`` units
    (when set) with the net's L2 penalty."""
    if net.dropout:
        x = keras.layers.Dropout(float(net.dropout), seed=net.seed)(x)
    if net.dense:
        x = keras.layers.Dense(int(net.dense), activation="relu",
                               kernel_regularizer=l2_penalty(net.l2, keras), name="dense")(x)
    return x
