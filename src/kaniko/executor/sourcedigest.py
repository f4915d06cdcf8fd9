"""What COPY and ADD read from the build context, as one digest for the cache key.

The sources are found exactly as :func:`kaniko.executor.steps.copy.copy_step` finds them
(the same :func:`~kaniko.executor.steps.sources.find`, the same ``.dockerignore`` matcher,
``--exclude`` and ``--parents`` filters, the same walk of a directory), and every entry
that reaches the layer adds to the digest: its path below the source, its type, its mode
(permission, setuid/setgid/sticky bits), its content (SHA-256), its link target, its
device numbers, its xattrs, and which other entry of the same source it is a hard link
of. So a file added, removed, renamed, changed, made executable, or newly excluded by
``.dockerignore`` changes the key, and the Go kaniko's rename collision (a directory's
digest without its names) cannot happen.

Not in the digest: the owner of a context file (COPY writes 0:0, or the ``--chown``
owner, which the instruction holds) and its times (see :mod:`kaniko.cache.keys`).

A URL source counts by what says its content: the ``--checksum`` when given; else the
validators of a ``HEAD`` answer (``ETag``, ``Last-Modified``, ``Content-Length``); a
server that sends neither validator has its body downloaded and hashed. A heredoc is in
the instruction itself.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable

import httpx

from kaniko.dockerfile.commands import Add, Copy
from kaniko.errors import BuildError
from kaniko.executor.steps import fetch
from kaniko.executor.steps.copy import CopySource
from kaniko.executor.steps.sources import Root, clean_source, find, has_wildcards
from kaniko.executor.steps.sources import pattern_matcher as make_matcher
from kaniko.executor.steps.tree import Filters
from kaniko.fs.fileattrs import read_xattrs
from kaniko.iotools import CHUNK

Emit = Callable[[str], None]
Links = dict[tuple[int, int], str]


def source_digest(
    instr: Copy | Add, source: CopySource, *, http: httpx.Client | None = None
) -> str:
    """The digest of what ``instr`` reads from the build context ``source``."""
    hasher = hashlib.sha256()

    def emit(text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        hasher.update(b"%d:" % len(data) + data)

    keyword = instr.keyword
    root = Root(str(source.root), source.matcher, "the build context")
    exclude = make_matcher(instr.exclude, keyword, "--exclude")
    for index, src in enumerate(instr.sources):
        emit(f"source {index}")
        links: Links = {}  # hard links are kept within one source argument, as the step does
        if fetch.is_url(src):
            checksum = instr.checksum if isinstance(instr, Add) else ""
            emit("url " + url_validators(src, checksum, http))
        elif isinstance(instr, Copy) and instr.parents:
            _parents(src, keyword, root, emit, links)
        else:
            for found in find(src, keyword, root):
                if found.matched and exclude is not None and exclude.excluded(found.matched):
                    continue
                emit(f"found {found.name} {found.matched}")
                filters = Filters(root.matcher, found.real, exclude)
                _entry(root, found.real, filters, emit, links)
    return "sha256:" + hasher.hexdigest()


def _parents(src: str, keyword: str, root: Root, emit: Emit, links: Links) -> None:
    base, sep, pattern = src.partition("/./")
    if not sep:
        base, pattern = "/", src
    pattern = clean_source(pattern, keyword, root)
    if not has_wildcards(base) and not has_wildcards(pattern):
        find(f"{base}/{pattern}", keyword, root)  # must exist, as the step checks
    include = make_matcher((pattern,), keyword, "--parents") if pattern else None
    parts = tuple(pattern.split("/")) if pattern else ()
    for found in find(base, keyword, root):
        emit(f"parents {found.name} {found.real} {pattern}")
        filters = Filters(root.matcher, found.real, None, include, parts)
        _entry(root, found.real, filters, emit, links)


def _entry(root: Root, real: str, filters: Filters, emit: Emit, links: Links) -> None:
    """One found source: a file, or a directory and the tree the step would copy."""
    path = root.full(real)
    st = os.lstat(path)
    _one(path, real, st, emit, links)
    if stat.S_ISDIR(st.st_mode):
        _walk(path, "", filters, emit, links)


def _walk(directory: str, rel: str, filters: Filters, emit: Emit, links: Links) -> None:
    try:
        names = sorted(os.listdir(directory))
    except OSError as e:
        raise BuildError(f"cannot read source directory {directory}: {e.strerror or e}") from e
    for name in names:
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        erel = f"{rel}/{name}" if rel else name
        is_dir = stat.S_ISDIR(st.st_mode)
        verdict = filters.decide(erel, is_dir)
        if verdict == "skip":
            continue
        emit(f"{verdict} {erel}")
        _one(path, erel, st, emit, links)
        if is_dir:
            _walk(path, erel, filters, emit, links)


def _one(path: str, rel: str, st: os.stat_result, emit: Emit, links: Links) -> None:
    """The metadata and content of one entry that reach the layer."""
    mode = st.st_mode
    xattrs = ",".join(f"{k}={v.hex()}" for k, v in read_xattrs(path))
    emit(f"entry {rel} {stat.S_IFMT(mode):o} {stat.S_IMODE(mode):o} [{xattrs}]")
    if stat.S_ISREG(mode):
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in links:
            emit(f"hardlink {links[key]}")
            return
        if st.st_nlink > 1:
            links[key] = rel
        emit(f"content {st.st_size} {file_sha256(path)}")
    elif stat.S_ISLNK(mode):
        emit(f"link {os.readlink(path)}")
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        emit(f"device {os.major(st.st_rdev)} {os.minor(st.st_rdev)}")


def file_sha256(path: str) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def url_validators(url: str, checksum: str, http: httpx.Client | None) -> str:
    """What identifies the content at ``url`` (see the module docs)."""
    if checksum:
        return f"{url} checksum={checksum}"
    own = http is None
    client = http if http is not None else httpx.Client(timeout=60.0)
    label = f"ADD {fetch.shown(url)}"
    try:
        response = client.head(url, follow_redirects=True)
        if response.status_code < 400:
            etag = response.headers.get("ETag", "")
            modified = response.headers.get("Last-Modified", "")
            if etag or modified:
                length = response.headers.get("Content-Length", "")
                return f"{url} etag={etag} modified={modified} length={length}"
        hasher = hashlib.sha256()
        with client.stream("GET", url, follow_redirects=True) as body:
            if body.status_code >= 400:
                raise BuildError(f"{label}: {body.status_code} {body.reason_phrase}")
            for chunk in body.iter_bytes(CHUNK):
                hasher.update(chunk)
        return f"{url} content=sha256:{hasher.hexdigest()}"
    except httpx.HTTPError as e:
        raise BuildError(f"{label}: {type(e).__name__}: {e}") from e
    finally:
        if own:
            client.close()
