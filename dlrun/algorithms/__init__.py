"""The algorithm catalogue. ``builtin`` registers dlrun's own entries; the Keras
nets live in ``dlrun.algorithms.keras`` and are imported only when built."""
