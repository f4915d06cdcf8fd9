"""Whether a benchmark's work directory is on ext4 without a journal, where file creation
costs what the machine deleted in the last minutes.

ext4 without a journal (``/sys/fs/ext4/<dev>/journal_task`` reads ``<none>``) does not
reuse an inode freed less than 60 s ago (5 min while its inode table block is dirty): each
new inode's allocation (``find_inode_bit``) steps over every such inode of its block group
with a buffer-cache lookup (``recently_deleted``). After a tree of 30 000 files is removed
nearby, creating the next 30 000 costs several times the CPU it costs on a journaled ext4
(measured: 5.5 s of system time against 0.8 s; ``perf`` shows ``recently_deleted``). The
benchmarks then measure the machine's recent deletions, theirs and other processes',
as much as the builder; they say so, and ``--work-dir`` puts their files elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path


def journal_less_ext4(path: str | os.PathLike[str]) -> str | None:
    """The device name when ``path`` is on ext4 without a journal, else None."""
    dev = os.stat(path).st_dev
    uevent = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}/uevent")
    try:
        fields = dict(line.split("=", 1) for line in uevent.read_text().splitlines() if "=" in line)
        name = fields["DEVNAME"]
        task = Path(f"/sys/fs/ext4/{name}/journal_task").read_text().strip()
    except (OSError, KeyError):
        return None  # not a block device's ext4 (tmpfs, overlay, xfs ...)
    return name if task == "<none>" else None


def warn_if_journal_less(path: str | os.PathLike[str]) -> None:
    name = journal_less_ext4(path)
    if name is not None:
        print(
            f"note: {path} is on ext4 without a journal ({name}): file creation there costs"
            " what was deleted nearby in the last minutes (see bench/fsinfo.py)",
            flush=True,
        )
