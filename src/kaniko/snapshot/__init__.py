"""Userspace snapshots: what each build step changed in the root, and its layer.

:class:`~kaniko.snapshot.snapshotter.Snapshotter` is the entry point; the inventory and the
diff it builds on live in :mod:`kaniko.fs.inventory` and :mod:`kaniko.fs.diff`.
"""

from __future__ import annotations

from kaniko.fs.diff import ChangeSet
from kaniko.snapshot.snapshotter import Snapshotter

__all__ = ["ChangeSet", "Snapshotter"]
