"""Entry point of the RUN init: ``python -I -S <this directory>``, started by kaniko.

Descriptors on entry: 0 the command's stdin, 1 and 2 the output pipe, 3 the status pipe,
4 a memfd holding the step's configuration (a :mod:`marshal`-ed dict, see
:func:`kaniko.sandbox.process.spawn`). Anything else inherited is closed at once; the
environment is empty. Then this process becomes the keeper (:mod:`tree`).
"""

import marshal
import os

_CONFIG_FD = 4

os.closerange(_CONFIG_FD + 1, max(os.sysconf("SC_OPEN_MAX"), 1024))
with os.fdopen(_CONFIG_FD, "rb") as _source:
    _config = marshal.loads(_source.read())

import tree  # type: ignore[import-not-found]  # noqa: E402  (sys.path[0] is this directory)

tree.keeper(_config)
