"""The kinds of data dlrun ships, each a plugin package (see :class:`dlrun.kind.Kind`).

The core never imports these packages: they reach it through the ``dlrun.kinds``
entry points, exactly as a third-party kind would. They do not import each other.
"""
