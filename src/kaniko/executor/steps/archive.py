"""ADD of a local tar archive: detected by content, extracted into the destination safely.

An ADD source is an archive when it is a regular file whose content, after gzip, bzip2,
xz or zstd decompression (sniffed from the magic bytes, never from the name) or none,
starts with a valid tar header, which is BuildKit's test. Anything else is copied as is,
compressed or not.

Extraction follows Docker's ``Untar``: member names are taken relative to the destination
directory (a leading ``/`` is dropped, a ``..`` that climbs above it is an error), missing
parents are created, existing directories are merged, other entries replaced (a directory
too, by a non-directory); a directory entry over a symlink to a directory goes through it.
Ownership, modes, times and xattrs come from the archive, except that ``--chown`` sets every owner;
``--chmod`` does not apply. Names starting with ``.wh.`` are ordinary files here. Symlinks
on the way (including ones the archive itself created) are resolved inside the image's
root, so nothing is ever written outside it.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from typing import IO

from kaniko.errors import BuildError, FilesystemError, KanikoError
from kaniko.executor.steps.dest import Dest
from kaniko.executor.steps.entry_meta import Meta
from kaniko.fs.entrymeta import member_times, member_xattrs
from kaniko.fs.safepath import clean_relpath, resolve_rel
from kaniko.iotools import CHUNK, write_all
from kaniko.oci.compress import open_decompressed

_BLOCK = tarfile.BLOCKSIZE


def is_archive(path: str) -> bool:
    """Whether host file ``path`` holds a (possibly compressed) tar archive."""
    try:
        with open(path, "rb") as raw, open_decompressed(raw) as data:
            head = data.read(_BLOCK)
            if len(head) < _BLOCK:
                return False
            tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape")
            return True
    except (tarfile.TarError, KanikoError, OSError, EOFError, ValueError):
        return False


def extract(path: str, dest: Dest, target: str, label: str) -> None:
    """Extract archive ``path`` into root-relative directory ``target`` (which exists)."""
    try:
        with (
            open(path, "rb") as raw,
            open_decompressed(raw) as data,
            tarfile.open(
                fileobj=data,
                mode="r|",
                bufsize=CHUNK,
                encoding="utf-8",
                errors="surrogateescape",
            ) as tar,
        ):
            while (member := tar.next()) is not None:
                # tarfile keeps every header otherwise
                tar.members.clear()  # type: ignore[attr-defined]  # real, but not in typeshed
                _member(tar, member, dest, target, label)
    except BuildError:
        raise
    except (tarfile.TarError, KanikoError, OSError, EOFError) as e:
        raise BuildError(f"{label}: cannot extract the archive: {e}") from e


def _member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Dest, target: str, label: str
) -> None:
    try:
        name = clean_relpath(member.name)
    except FilesystemError:
        raise BuildError(
            f"{label}: archive entry {member.name!r} escapes the destination"
        ) from None
    if not name:
        return  # the destination itself ("./"): Docker leaves it as it is
    parent_lex, base = posixpath.split(posixpath.join(target, name))
    try:
        parent = resolve_rel(dest.root, parent_lex)
    except FilesystemError as e:
        raise BuildError(f"{label}: archive entry {member.name!r}: {e}") from None
    dest.make_parents(parent)
    rel = posixpath.join(parent, base) if parent else base
    meta = _meta(member)
    if member.isreg():
        source = tar.extractfile(member)
        if source is None:
            raise BuildError(f"{label}: archive entry {member.name!r} has no content")
        dest.file(rel, meta, lambda fd: _copy(source, fd, member, label))
    elif member.isdir():
        dest.directory(rel, meta)
    elif member.issym():
        dest.symlink(rel, member.linkname, meta)
    elif member.islnk():
        dest.hardlink(rel, _link_target(member, dest, target, label))
    elif member.isfifo() or member.ischr() or member.isblk():
        dest.special(rel, meta)
    # other types (sockets do not exist in tar; GNU volume headers...) are skipped


def _link_target(member: tarfile.TarInfo, dest: Dest, target: str, label: str) -> str:
    try:
        lexical = posixpath.join(target, clean_relpath(member.linkname))
        linked = resolve_rel(dest.root, lexical, follow_final=False)
    except FilesystemError:
        raise BuildError(
            f"{label}: hard link {member.name!r} points outside the destination"
        ) from None
    try:
        mode = os.lstat(dest.full(linked)).st_mode
    except FileNotFoundError:
        raise BuildError(f"{label}: hard link target {member.linkname!r} does not exist") from None
    if stat.S_ISDIR(mode) or not linked:
        raise BuildError(f"{label}: hard link {member.name!r} to a directory")
    return linked


def _meta(member: tarfile.TarInfo) -> Meta:
    kinds = {
        tarfile.DIRTYPE: stat.S_IFDIR,
        tarfile.SYMTYPE: stat.S_IFLNK,
        tarfile.FIFOTYPE: stat.S_IFIFO,
        tarfile.CHRTYPE: stat.S_IFCHR,
        tarfile.BLKTYPE: stat.S_IFBLK,
    }
    atime, mtime = member_times(member)
    xattrs = tuple(sorted(member_xattrs(member)))
    rdev = 0
    if member.ischr() or member.isblk():
        rdev = os.makedev(member.devmajor, member.devminor)
    kind = kinds.get(member.type, stat.S_IFREG)
    return Meta(kind | (member.mode & 0o7777), member.uid, member.gid, atime, mtime, xattrs, rdev)


def _copy(source: IO[bytes], fd: int, member: tarfile.TarInfo, label: str) -> None:
    total = 0
    while chunk := source.read(CHUNK):
        write_all(fd, chunk)
        total += len(chunk)
    if total != member.size:
        raise BuildError(f"{label}: archive entry {member.name!r} is truncated")
