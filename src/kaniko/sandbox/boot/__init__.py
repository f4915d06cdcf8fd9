"""The init program of a RUN: a fresh interpreter exec'd for each step (never a fork of kaniko).

kaniko starts it as ``python -I -S <this directory>`` (:mod:`kaniko.sandbox.process`),
so the step's processes never share memory, environment or descriptors with the builder.
Its modules import only the standard library and each other (as top-level modules, since
this directory is ``sys.path[0]`` there), never ``kaniko``: see ``__main__.py``.
"""
