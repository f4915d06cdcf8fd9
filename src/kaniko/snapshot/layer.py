"""A change set as a layer: tar entries through the tar writer into a spooled blob.

Added and modified paths become ``file`` entries (the tar writer adds their parent
directories and keeps hardlinks, xattrs and numeric ids); deleted paths become ``whiteout``
entries. Opaque whiteouts are never needed: a deleted tree is whited out at its top. An empty
change set gives no layer at all, like Go kaniko, which drops an empty snapshot tar.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kaniko.fs.diff import ChangeSet
from kaniko.fs.tarwrite import TarEntry, write_layer_tar
from kaniko.oci.image import FileLayer
from kaniko.oci.mediatypes import Compression
from kaniko.oci.streams import LayerSpooler, WatchFactory


@dataclass(frozen=True, slots=True)
class LayerOptions:
    """How snapshot layers are written: spool directory, compression, reproducibility."""

    spool_dir: str | None
    compression: Compression = "gzip"
    level: int | None = None
    oci: bool = False
    reproducible: bool = False
    epoch: int = 0  # the time of every entry with reproducible (SOURCE_DATE_EPOCH, else 0)
    watch: WatchFactory | None = None  # told how each spool file grows (early push)


def tar_entries(changes: ChangeSet) -> list[TarEntry]:
    """The tar entries of ``changes``, sorted by path."""
    entries = [TarEntry(path, "file") for path in changes.added + changes.modified]
    entries += [TarEntry(path, "whiteout") for path in changes.deleted]
    entries.sort(key=lambda e: e.path)
    return entries


def write_layer(
    root: str, changes: ChangeSet, options: LayerOptions, *, upper: str | None = None
) -> FileLayer | None:
    """Write ``changes`` under ``root`` as one spooled layer; ``None`` when there are none.

    ``upper``: the overlay upper directory of ``root``'s running step, read where it
    holds an entry (see :func:`~kaniko.fs.tarwrite.write_layer_tar`)."""
    if not changes:
        return None
    if options.spool_dir is None:
        raise ValueError("writing a snapshot layer needs a spool directory")
    os.makedirs(options.spool_dir, exist_ok=True)
    with LayerSpooler(
        options.spool_dir,
        options.compression,
        options.level,
        oci=options.oci,
        watch=options.watch,
    ) as spooler:  # removes the spool file if writing fails
        write_layer_tar(
            root,
            tar_entries(changes),
            spooler,
            reproducible=options.reproducible,
            epoch=options.epoch,
            upper=upper,
        )
        return spooler.finish()
