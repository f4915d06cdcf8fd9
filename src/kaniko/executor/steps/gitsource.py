"""``ADD`` of a git repository: ``ADD https://host/repo.git#ref:subdir /dst``.

BuildKit's git source, with the git support of the build contexts
(:mod:`kaniko.context.git`, dulwich: no git binary): the ref in the fragment (a branch,
tag, full ref or commit; default the remote's ``HEAD``) is fetched shallow, its tree
checked out with its submodules, and the directory ``subdir`` (default the top) is what
ADD copies, as a directory source: its contents land in the destination, owned 0:0
(unless ``--chown``), files 0644 or 0755 as git records them, times the commit's.
``--keep-git-dir`` keeps the repository as ``.git`` (the fetched, shallow history, an
index of the checkout, ``HEAD`` on the ref's branch or detached at the commit);
without it there is none. A URL's credentials (or ``GIT_TOKEN``,
``GIT_USERNAME``/``GIT_PASSWORD``) are used and masked in every message.

Sources are ``http(s)://…`` URLs whose path ends in ``.git`` and ``git://`` URLs;
``git@host:path`` and ``ssh://`` need an ssh client and are refused with a clear error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dulwich.index import index_entry_from_stat
from dulwich.objects import Commit, ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from kaniko.context.git import GitError, checkout_git
from kaniko.context.spec import GitSpec
from kaniko.errors import BuildError, NotSupportedYet
from kaniko.options import DEFAULT_CONTEXT_SIZE_LIMIT, GitOptions
from kaniko.redact import redact_url


def parse_git_source(src: str) -> GitSpec:
    """``URL#ref:subdir`` → :class:`GitSpec`; ssh forms are not supported."""
    if src.startswith(("git@", "ssh://", "git+ssh://")):
        raise NotSupportedYet(
            f"ADD {redact_url(src)}: git over ssh is not supported yet; use an https:// URL"
        )
    url, _, fragment = src.partition("#")
    url = url.removeprefix("git+")
    ref, _, subdir = fragment.partition(":")
    return GitSpec(url=url, ref=ref, subdir=subdir.strip("/"))


_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


def parse_checksum(text: str) -> str:
    """``ADD --checksum`` of a git source: the commit's id (or a prefix of 7 or more)."""
    value = text.removeprefix("sha1:")
    if not _COMMIT.match(value):
        raise BuildError(f"ADD --checksum={text}: want the commit's id for a git source")
    return value


def checkout(src: str, scratch: Path, *, keep_git_dir: bool, checksum: str = "") -> Path:
    """Fetch ``src`` under ``scratch``; the host directory ADD copies from. ``checksum``:
    the commit must have this id (or id prefix)."""
    spec = parse_git_source(src)
    tree = scratch / "checkout"
    tree.mkdir()
    stores = scratch / "stores"
    stores.mkdir()
    options = GitOptions(recurse_submodules=True)
    label = f"ADD {redact_url(spec.url)}"
    try:
        name, commit = checkout_git(spec, tree, DEFAULT_CONTEXT_SIZE_LIMIT, options, stores)
    except GitError as e:
        raise BuildError(f"ADD: {e}") from None
    if checksum and not commit.startswith(parse_checksum(checksum)):
        raise BuildError(f"{label}: checksum mismatch: expected {checksum}, got {commit}")
    if keep_git_dir:
        _keep_repository(sorted(stores.iterdir())[0], tree, name, commit)
    if not spec.subdir:
        return tree
    sub = tree / spec.subdir
    real_tree = os.path.realpath(tree)
    if not sub.is_dir() or not os.path.realpath(sub).startswith(real_tree + os.sep):
        raise BuildError(f"{label}: {spec.subdir} is no directory of the repository")
    return sub


def _keep_repository(store: Path, tree: Path, name: str, commit: str) -> None:
    """Make the fetched bare repository ``store`` the checkout's ``.git``: ``HEAD`` on the
    fetched branch (detached for a tag, a commit or the remote's ``HEAD``), an index of the
    checkout."""
    store.rename(tree / ".git")
    repo = Repo(str(tree))
    try:
        config = repo.get_config()
        config.set((b"core",), b"bare", False)
        config.write_to_path()
        sha, head = ObjectID(commit.encode()), Ref(b"HEAD")
        if name.startswith("refs/"):
            repo.refs[Ref(name.encode())] = sha
        if name.startswith("refs/heads/"):
            repo.refs.set_symbolic_ref(head, Ref(name.encode()))
        else:
            repo.refs.remove_if_equals(head, None)
            repo.refs[head] = sha
        _write_index(repo, tree, sha)
    finally:
        repo.close()


def _write_index(repo: Repo, tree: Path, commit: ObjectID) -> None:
    """An index of the checkout as it is on disk: every file, symlink and submodule of the
    commit's tree, with its object id and the stat of the checked-out entry."""
    found = repo.object_store[commit]
    assert isinstance(found, Commit)
    index = repo.open_index()
    for entry in repo.object_store.iter_tree_contents(found.tree):
        path = entry.path.decode("utf-8", "surrogateescape")
        index[entry.path] = index_entry_from_stat(os.lstat(tree / path), entry.sha, mode=entry.mode)
    index.write()
