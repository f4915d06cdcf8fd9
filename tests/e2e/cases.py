"""The conformance cases under ``tests/e2e/conformance/``: loading and preparing them.

A case is a folder: its ``Dockerfile``, its build context (every other file, except
``case.json`` and the ``served/`` folder) and ``case.json``::

    {
      "about": "what the case proves (one line)",
      "build_args": {"NAME": "value"},
      "secrets": {"ID": "value"},     (--secret id=ID for both builders, from a file)
      "target": "stage name",
      "context": [ ... entries git cannot hold, made before the build (see below) ... ],
      "allow": {"/glob/of/path": "why this path may differ between the builders"},
      "override": {"reason": "where buildah 1.28 is wrong, with the evidence",
                   "config": {"Field": expected}, "tree": {"/path": {...} or null}},
      "oracle": false,  "oracle_reason": "why buildah cannot build this at all",
      "expect": {"config": {"Field": value}, "tree": {"/path": {...}}, "absent": ["/p"],
                 "exact": true},
      "run": {"argv": ["cmd", "..."], "stdout": "exact output", "exit": 0},
      "xfail": "a known bug of ours that this case catches, and whose it is to fix"
    }

``override`` keeps the comparison with buildah for everything else: the named config
fields and paths are checked against the stated values instead (``null`` for a path: it
must not exist). With ``"oracle": false`` buildah is not run at all and ``expect`` states
the result; with ``"exact": true`` every path that differs from the base image must be
listed in ``expect.tree`` or ``expect.absent``. An expected path is a dict of the
:class:`~tests.lab.flatten.Entry` fields to check (``type``, ``mode`` as an octal string,
``uid``, ``gid``, ``linkname``, ``hardlinks``) plus ``content`` (the file's text).

``context`` entries (applied in order, paths relative to the context)::

    {"path": "p", "mode": "4755"}                      chmod
    {"path": "p", "owner": "1234:5678"}                chown (numeric)
    {"path": "p", "dir": true}                         an empty directory
    {"path": "p", "symlink": "target"}                 a symlink
    {"path": "p", "hardlink": "existing"}              a hard link
    {"path": "p", "fifo": true}                        a named pipe
    {"path": "p", "xattr": {"user.k": "v"}}            extended attributes
    {"path": "p.tar.gz", "tar": "dir", "compression": "gz"}  a tar of a context folder
                                       (compression: none, gz, bz2, xz, zst)

Before the entries are applied, every copied file is normalised to mode 0644 (0755 when
git marked it executable) and every directory to 0755, so a checkout's umask never
changes a result. In the ``Dockerfile``, ``{{busybox}}``, ``{{debian}}``, ``{{http}}``
(the case's ``served/`` folder over HTTP) and ``{{registry}}`` are replaced before
either builder reads it.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

from tests.lab.images import tar_of_dir

CASES_DIR = Path(__file__).parent / "conformance"
SERVED = "served"
_KNOWN_KEYS = {
    "about", "build_args", "secrets", "target", "context", "allow", "override", "oracle",
    "oracle_reason", "expect", "run", "xfail",
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One conformance case, read from its folder."""

    name: str
    folder: Path
    about: str
    build_args: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    target: str = ""
    context: list[dict[str, Any]] = field(default_factory=list)
    allow: dict[str, str] = field(default_factory=dict)
    override: dict[str, Any] = field(default_factory=dict)
    oracle: bool = True
    oracle_reason: str = ""
    expect: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] | None = None
    xfail: str = ""

    @property
    def group(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def slow(self) -> bool:
        """Package installs on the Debian base: started first, so they never run last."""
        return "{{debian}}" in (self.folder / "Dockerfile").read_text()


def load(folder: Path) -> Case:
    """The case in ``folder``; ValueError when its ``case.json`` is malformed."""
    data = json.loads((folder / "case.json").read_text())
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise ValueError(f"{folder.name}/case.json: unknown keys {sorted(unknown)}")
    if not data.get("about"):
        raise ValueError(f"{folder.name}/case.json: 'about' is required")
    for pattern, reason in data.get("allow", {}).items():
        if not reason or len(reason) < 10:
            raise ValueError(f"{folder.name}: allow-list entry {pattern} needs its reason")
    override = data.get("override", {})
    if override and not override.get("reason"):
        raise ValueError(f"{folder.name}: an override must say why buildah is wrong")
    if data.get("oracle", True) is False and not (data.get("oracle_reason") and data.get("expect")):
        raise ValueError(f"{folder.name}: without the oracle, give oracle_reason and expect")
    return Case(name=folder.name, folder=folder, **data)


def all_cases() -> list[Case]:
    """Every case folder, the slow ones first (pytest-xdist hands tests out in order)."""
    cases = [load(p) for p in sorted(CASES_DIR.iterdir()) if (p / "case.json").is_file()]
    return sorted(cases, key=lambda c: (not c.slow, c.name))


def secret_files(case: Case, directory: Path) -> dict[str, Path]:
    """The case's secrets, each in a file of ``directory`` (outside the context)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for secret_id, value in case.secrets.items():
        files[secret_id] = directory / secret_id
        files[secret_id].write_text(value)
    return files


def render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        start = text.index("{{")
        raise ValueError(f"unknown placeholder {text[start : text.find('}}', start) + 2]}")
    return text


def prepare_context(case: Case, dest: Path, values: dict[str, str]) -> Path:
    """Copy ``case``'s context to ``dest``, normalise modes, apply its entries, render the
    Dockerfile; return ``dest``."""
    ignore = shutil.ignore_patterns("case.json", SERVED)
    shutil.copytree(case.folder, dest, symlinks=True, ignore=ignore)
    for dirpath, dirnames, filenames in os.walk(dest):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            executable = os.stat(path).st_mode & 0o100
            os.chmod(path, 0o755 if executable else 0o644)
        dirnames.sort()
    for entry in case.context:
        _apply(dest, entry)
    dockerfile = dest / "Dockerfile"
    dockerfile.write_text(render(dockerfile.read_text(), values))
    return dest


def _apply(ctx: Path, entry: dict[str, Any]) -> None:
    path = ctx / entry["path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    if entry.get("dir"):
        path.mkdir(exist_ok=True)
    elif "symlink" in entry:
        path.symlink_to(entry["symlink"])
    elif "hardlink" in entry:
        os.link(ctx / entry["hardlink"], path)
    elif entry.get("fifo"):
        os.mkfifo(path)
    elif "tar" in entry:
        path.write_bytes(_tarball(ctx / entry["tar"], entry.get("compression", "none")))
    if "owner" in entry:
        uid, gid = (int(x) for x in entry["owner"].split(":"))
        os.lchown(path, uid, gid)
    if "mode" in entry:
        os.chmod(path, int(entry["mode"], 8))
    for name, value in entry.get("xattr", {}).items():
        os.setxattr(path, name, value.encode(), follow_symlinks=False)


def _tarball(folder: Path, compression: str) -> bytes:
    """A tar of ``folder``'s contents (sorted, numeric ids 0, fixed times)."""
    raw = tar_of_dir(folder)
    if compression == "gz":
        return gzip.compress(raw, mtime=0)
    if compression == "bz2":
        return bz2.compress(raw)
    if compression == "xz":
        return lzma.compress(raw)
    if compression == "zst":
        return zstandard.ZstdCompressor().compress(raw)
    if compression == "none":
        return raw
    raise ValueError(f"unknown compression {compression!r}")
