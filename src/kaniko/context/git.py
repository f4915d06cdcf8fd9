"""git contexts, fetched with dulwich (a git implementation in Python): no git binary.

What is checked out, as in the Go kaniko (``pkg/buildcontext/git.go``):

- ``--git branch=NAME`` wins: ``refs/heads/NAME``, else ``refs/tags/NAME``, else the error
  ``invalid branch: NAME``;
- else the fragment's ref: a full ref (``refs/heads/…``, ``refs/tags/…``,
  ``refs/pull/N/head``, …), a branch or tag name, or a 40-hex commit;
- else the remote's ``HEAD``;
- a second fragment part (``#REF#COMMIT``) checks out that commit.

Only what is built is fetched: one commit at depth 1 when a ref names it (a shallow
clone); a commit named by hash is asked for directly at depth 1 and, where the server does
not serve unadvertised commits, found in the full history of the ref (or of every branch
and tag). So every fetch is single-branch, whatever ``--git single-branch`` says. The
fetched objects live in a bare repository beside the context, deleted afterwards; the
commit's tree becomes a tar stream unpacked by :mod:`kaniko.context.archive`, so a hostile
tree gets the same checks as a hostile archive (paths cleaned, links re-rooted, the size
limit). ``--git recurse-submodules=true`` does the same for each submodule (``.gitmodules``
URLs, relative ones resolved against the superproject's), at the commit the tree records,
recursively.

Credentials: ``GIT_TOKEN`` (sent as the user name with an empty password), else
``GIT_USERNAME``/``GIT_PASSWORD``, else the URL's userinfo; all are registered as secrets.
``--git insecure-skip-tls=true`` turns off certificate checks; ``SSL_CERT_FILE`` adds CAs.
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import re
import stat
import tarfile
import urllib.parse
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from dulwich.client import GitClient, HTTPUnauthorized, get_transport_and_path
from dulwich.config import ConfigDict, ConfigFile, parse_submodules
from dulwich.errors import GitProtocolError, HangupException, NotGitRepository
from dulwich.objects import Blob, Commit, ObjectID, Tag, Tree
from dulwich.repo import Repo

from kaniko.context.archive import reader, unpack
from kaniko.context.spec import GitSpec
from kaniko.errors import ContextError
from kaniko.options import GitOptions
from kaniko.redact import redact_url, register_secret

log = logging.getLogger(__name__)

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_GITLINK = 0o160000
MAX_SUBMODULE_DEPTH = 10


class GitError(ContextError):
    """A git context could not be fetched; the message names the repository."""


@dataclass(frozen=True)
class Remote:
    """A repository to fetch from: its URL without credentials, and the credentials."""

    url: str
    display: str
    username: str | None
    password: str | None
    verify_tls: bool

    def client(self) -> tuple[GitClient, str]:
        config = ConfigDict()
        config.set((b"http",), b"sslVerify", b"true" if self.verify_tls else b"false")
        config.set((b"http",), b"timeout", b"120")
        try:
            client, path = get_transport_and_path(
                self.url, config=config, username=self.username, password=self.password
            )
        except ValueError as e:
            raise GitError(f"{self.display}: {e}") from None
        _track_responses(client)
        return client, path


def remote_for(url: str, options: GitOptions) -> Remote:
    """The remote of ``url`` with the credentials kaniko's variables give."""
    parts = urllib.parse.urlsplit(url)
    username = urllib.parse.unquote(parts.username) if parts.username else None
    password = urllib.parse.unquote(parts.password) if parts.password else None
    bare = url
    if "@" in parts.netloc:
        bare = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    token = os.environ.get("GIT_TOKEN")
    env_user, env_password = os.environ.get("GIT_USERNAME"), os.environ.get("GIT_PASSWORD")
    if token:
        username, password = token, ""
    elif env_user or env_password:
        username, password = env_user or "", env_password or ""
    for secret in (password, token, env_password):
        register_secret(secret)
    if token or (username and not password):
        register_secret(username)  # a token passed as the user name
    return Remote(bare, redact_url(url), username, password, not options.insecure_skip_tls)


def _fail(remote: Remote, what: str, error: Exception) -> GitError:
    if isinstance(error, HTTPUnauthorized):
        reason = "authentication required or refused (set GIT_TOKEN or GIT_USERNAME/GIT_PASSWORD)"
    elif isinstance(error, NotGitRepository):
        reason = "no such repository"
    else:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        lowered = reason.lower()
        if any(m in lowered for m in ("not found", "not a git repository", "not exported")):
            reason = f"no such repository ({reason})"
    return GitError(f"{remote.display}: {what}: {reason}")


_ERRORS = (
    GitProtocolError,
    HangupException,
    HTTPUnauthorized,
    NotGitRepository,
    OSError,
    KeyError,
    ValueError,
)


def _oid(hex_id: str) -> ObjectID:
    """A hex object id as dulwich's object stores index them."""
    return ObjectID(hex_id.encode())


def _refs(remote: Remote) -> dict[bytes, bytes]:
    client, path = remote.client()
    try:
        result = client.get_refs(path.encode())
    except _ERRORS as e:
        raise _fail(remote, "listing refs", e) from None
    finally:
        _close(client)
    refs = cast("Mapping[bytes, bytes | None]", getattr(result, "refs", result))
    return {name: sha for name, sha in refs.items() if sha}


def choose(refs: dict[bytes, bytes], spec: GitSpec, branch: str, display: str) -> tuple[str, str]:
    """(ref name, object id) to fetch; the id may be a tag object."""
    if branch:
        for name in (f"refs/heads/{branch}", f"refs/tags/{branch}"):
            if name.encode() in refs:
                return name, refs[name.encode()].decode()
        raise GitError(f"{display}: invalid branch: {branch}")
    ref = spec.ref
    if not ref or ref == "HEAD":
        if b"HEAD" not in refs:
            raise GitError(f"{display}: the repository has no HEAD (is it empty?)")
        return "HEAD", refs[b"HEAD"].decode()
    if _HEX40.match(ref):
        return "", ref
    candidates = [ref] if ref.startswith("refs/") else [f"refs/heads/{ref}", f"refs/tags/{ref}"]
    for name in candidates:
        if name.encode() in refs:
            return name, refs[name.encode()].decode()
    raise GitError(f"{display}: no such branch, tag or ref: {ref}")


def _fetch(remote: Remote, repo: Repo, wants: list[str], depth: int | None) -> None:
    client, path = remote.client()

    def determine_wants(_refs: object, depth: int | None = None) -> list[bytes]:
        return [w.encode() for w in wants if _oid(w) not in repo.object_store]

    try:
        client.fetch(
            path.encode(),
            repo,
            determine_wants=determine_wants,  # type: ignore[arg-type]
            depth=depth,
        )
    finally:
        _close(client)


def _track_responses(client: GitClient) -> None:
    """Remember every HTTP response of ``client``'s urllib3 pool, for :func:`_close`.

    dulwich's HTTP client raises on a 401 or 404 without releasing the response it holds,
    whose connection then stays open until the garbage collector finds it.
    """
    pool = getattr(client, "pool_manager", None)
    if pool is None:
        return
    request = pool.request
    responses: list[Any] = []

    def tracked(*args: Any, **kwargs: Any) -> Any:
        response = request(*args, **kwargs)
        responses.append(response)
        return response

    pool.request = tracked
    pool.kaniko_responses = responses


def _close(client: GitClient) -> None:
    """Release the client's connections: every response it opened, then its pool."""
    client.close()
    pool = getattr(client, "pool_manager", None)
    if pool is None:
        return
    for response in getattr(pool, "kaniko_responses", ()):
        response.close()
    pool.clear()


def fetch_commit(
    remote: Remote, repo: Repo, spec: GitSpec, branch: str, *, want_commit: str = ""
) -> tuple[str, Commit]:
    """Fetch the commit ``spec`` (or ``want_commit``, a submodule's) names into ``repo``;
    the ref it was found by (``""``: named by its id) and the commit."""
    refs = _refs(remote)
    if want_commit:
        name, sha = "", want_commit
    else:
        name, sha = choose(refs, spec, branch, remote.display)
    target = spec.commit if spec.commit and not want_commit else ""
    if name and not target:
        wanted, label = sha, name
    else:
        wanted, label = (target or sha), (target or sha)
    log.info("Fetching %s (%s)", remote.display, label if not name else f"{name} {wanted[:12]}")
    try:
        _fetch(remote, repo, [wanted], depth=1)
    except _ERRORS as e:
        log.debug("shallow fetch of %s refused (%s); fetching history", wanted, e)
    if _oid(wanted) not in repo.object_store:
        history = (
            [refs[name.encode()].decode()] if name else sorted({v.decode() for v in refs.values()})
        )
        try:
            _fetch(remote, repo, history, depth=None)
        except _ERRORS as e:
            raise _fail(remote, f"fetching {label}", e) from None
    if _oid(wanted) not in repo.object_store:
        raise GitError(f"{remote.display}: no such commit: {wanted}")
    obj = repo.object_store[_oid(wanted)]
    while isinstance(obj, Tag):
        obj = repo.object_store[obj.object[1]]
    if not isinstance(obj, Commit):
        raise GitError(f"{remote.display}: {label} is not a commit")
    return ("" if target else name), obj


def tree_tar(repo: Repo, tree: Tree, mtime: int, prefix: str = "") -> Iterator[bytes]:
    """A tar stream of ``tree`` (directories, files, symlinks), member by member.

    Submodule entries (gitlinks) become empty directories, filled by their own fetch.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for path, mode, sha in _walk(repo, tree, prefix):
            info = tarfile.TarInfo(path)
            info.mtime = mtime
            data = None
            if stat.S_ISDIR(mode) or mode == _GITLINK:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif stat.S_ISLNK(mode):
                blob = repo.object_store[sha]
                assert isinstance(blob, Blob)
                info.type = tarfile.SYMTYPE
                info.linkname = blob.as_raw_string().decode("utf-8", "surrogateescape")
                info.mode = 0o777
            else:
                blob = repo.object_store[sha]
                assert isinstance(blob, Blob)
                content = blob.as_raw_string()
                info.size, info.mode = len(content), 0o755 if mode & 0o100 else 0o644
                data = io.BytesIO(content)
            tar.addfile(info, data)
            if buffer.tell() >= 1 << 20:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def _walk(repo: Repo, tree: Tree, prefix: str) -> Iterator[tuple[str, int, ObjectID]]:
    for entry in tree.iteritems():
        name = entry.path.decode("utf-8", "surrogateescape")
        path = posixpath.join(prefix, name) if prefix else name
        yield path, entry.mode, ObjectID(entry.sha)
        if stat.S_ISDIR(entry.mode):
            sub = repo.object_store[entry.sha]
            assert isinstance(sub, Tree)
            yield from _walk(repo, sub, path)


def gitlinks(repo: Repo, tree: Tree, prefix: str = "") -> list[tuple[str, str]]:
    """(path, commit) of every submodule entry of ``tree``."""
    return [
        (path, sha.decode()) for path, mode, sha in _walk(repo, tree, prefix) if mode == _GITLINK
    ]


def submodule_urls(repo: Repo, tree: Tree) -> dict[str, str]:
    """``.gitmodules``' path -> URL."""
    try:
        _mode, sha = tree.lookup_path(repo.object_store.__getitem__, b".gitmodules")
    except KeyError:
        return {}
    blob = repo.object_store[sha]
    assert isinstance(blob, Blob)
    config = ConfigFile.from_file(io.BytesIO(blob.as_raw_string()))
    return {path.decode(): url.decode() for path, url, _name in parse_submodules(config)}


def resolve_url(base: str, url: str) -> str:
    """A submodule URL; ``./`` and ``../`` ones are relative to the superproject's URL."""
    if not url.startswith(("./", "../")):
        return url
    parts = urllib.parse.urlsplit(base)
    path = parts.path.rstrip("/")
    for piece in url.split("/"):
        if piece == "..":
            path = posixpath.dirname(path)
        elif piece not in ("", "."):
            path = posixpath.join(path or "/", piece)
    return urllib.parse.urlunsplit(parts._replace(path=path))


def fetch_git(spec: GitSpec, dest: Path, limit: int, options: GitOptions, scratch: Path) -> None:
    """Check ``spec``'s commit out into ``dest`` (``scratch`` holds the object stores)."""
    checkout_git(spec, dest, limit, options, scratch)


def checkout_git(
    spec: GitSpec, dest: Path, limit: int, options: GitOptions, scratch: Path
) -> tuple[str, str]:
    """:func:`fetch_git`, returning the ref the commit was found by (``""``: named by its
    id) and the commit's id; the top repository's objects are in the first directory of
    ``scratch`` (``ADD --keep-git-dir`` keeps it)."""
    remote = remote_for(spec.url, options)
    budget = [limit]
    with warnings.catch_warnings():
        if options.insecure_skip_tls:
            log.warning("--git insecure-skip-tls: the server's TLS certificate is not verified")
            warnings.simplefilter("ignore")  # urllib3 would warn on every request
        return _checkout(
            remote, spec, dest, budget, options, scratch, prefix="", commit="", depth=0
        )


def _checkout(
    remote: Remote,
    spec: GitSpec,
    dest: Path,
    budget: list[int],
    options: GitOptions,
    scratch: Path,
    *,
    prefix: str,
    commit: str,
    depth: int,
) -> tuple[str, str]:
    store = scratch / f"repo-{depth}-{len(list(scratch.iterdir()))}"
    store.mkdir()
    repo = Repo.init_bare(str(store))
    try:
        name, found = fetch_commit(
            remote, repo, spec, "" if commit else options.branch, want_commit=commit
        )
        tree = repo.object_store[found.tree]
        assert isinstance(tree, Tree)
        source = remote.display + (f" (submodule {prefix})" if prefix else "")
        stats = unpack(
            reader(tree_tar(repo, tree, found.commit_time, prefix)),
            dest,
            limit=budget[0],
            source=source,
        )
        budget[0] -= stats.bytes
        fetched = (name, found.id.decode())
        if not options.recurse_submodules:
            return fetched
        links = gitlinks(repo, tree)
        urls = submodule_urls(repo, tree) if links else {}
    finally:
        repo.close()
    for path, sha in links:
        if path not in urls:
            raise GitError(f"{remote.display}: submodule {path} has no URL in .gitmodules")
        if depth >= MAX_SUBMODULE_DEPTH:
            raise GitError(f"{remote.display}: submodules nested deeper than {MAX_SUBMODULE_DEPTH}")
        sub = remote_for(resolve_url(remote.url, urls[path]), options)
        if sub.username is None and remote.username is not None:
            sub = Remote(sub.url, sub.display, remote.username, remote.password, sub.verify_tls)
        _checkout(
            sub,
            GitSpec(sub.url),
            dest,
            budget,
            options,
            scratch,
            prefix=posixpath.join(prefix, path),
            commit=sha,
            depth=depth + 1,
        )
    return fetched
