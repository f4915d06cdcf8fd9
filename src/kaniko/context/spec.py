"""What a ``--context`` (or ``--bucket``) names: the source kind and where it is.

The prefixes are the Go kaniko's (``pkg/buildcontext``), read the same way:

==============================  =============================================================
``PATH``, ``dir://PATH``        a local directory
``tar://PATH``, ``tar://stdin`` a local tar (plain, gzip, zstd, xz or bzip2), or one piped in
``s3://BUCKET[/KEY]``           an S3 object (``KEY`` defaults to ``context.tar.gz``)
``gs://BUCKET[/KEY]``           a GCS object; ``--bucket NAME`` means ``gs://NAME``
``https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB`` (and the sovereign clouds' hosts)
                                an Azure blob
``git://HOST/REPO[#REF[#COMMIT]]``  a git repository, cloned over ``GIT_PULL_METHOD``
                                (``https``, the default, or ``http``), as kaniko does;
                                ``GIT_PULL_METHOD=git`` (ours) speaks the git protocol
==============================  =============================================================

Beyond kaniko: ``https://`` and ``http://`` URLs whose path ends in ``.git`` are git
repositories too, with kaniko's ``#REF#COMMIT`` fragment or BuildKit's ``#REF:SUBDIR``;
any other ``http(s)://`` URL is a tarball to download. A password in a URL's userinfo and
a SAS signature in its query are registered as secrets (:mod:`kaniko.redact`) as soon as
the spec is parsed, and :attr:`Spec.display` never holds them.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass

from kaniko.errors import UsageError
from kaniko.redact import redact_url, register_secret

DEFAULT_OBJECT = "context.tar.gz"
STDIN = "stdin"
_AZURE_HOST = re.compile(
    r"^https://(?P<account>[^./]+?)\.blob\.core\."
    r"(?:windows\.net|chinacloudapi\.cn|cloudapi\.de|usgovcloudapi\.net)/(?P<path>.+)$"
)
PREFIXES = "dir://, tar://, s3://, gs://, git://, https://, http://"


@dataclass(frozen=True)
class GitSpec:
    """A git repository, the ref and commit to check out and a directory inside it."""

    url: str  # with any userinfo, as given
    ref: str = ""  # "" : the remote's HEAD
    commit: str = ""
    subdir: str = ""


@dataclass(frozen=True)
class Spec:
    """A parsed context source.

    ``kind`` is one of ``dir``, ``tar``, ``stdin``, ``s3``, ``gcs``, ``azure``, ``git``,
    ``http``. ``location`` is the path or URL; ``bucket`` and ``key`` are set for object
    stores (for Azure: the container and the blob, and ``account``).
    """

    kind: str
    location: str
    display: str
    bucket: str = ""
    key: str = ""
    account: str = ""
    git: GitSpec | None = None

    @property
    def remote(self) -> bool:
        """True for every source that is unpacked or cloned into a new directory."""
        return self.kind != "dir"


def _bucket_and_key(rest: str, scheme: str, context: str) -> tuple[str, str]:
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise UsageError(f"--context {context}: want {scheme}://BUCKET[/OBJECT]")
    return bucket, key or DEFAULT_OBJECT


def _split_fragment(fragment: str) -> tuple[str, str, str]:
    """``REF[:SUBDIR][#COMMIT]`` into (ref, commit, subdir)."""
    first, _, commit = fragment.partition("#")
    ref, _, subdir = first.partition(":")
    if "#" in commit:
        raise UsageError(f"git context fragment #{fragment}: want #REF[#COMMIT] or #REF:DIR")
    return ref, commit, subdir.strip("/")


def _register_userinfo(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        register_secret(parts.password)
        register_secret(urllib.parse.unquote(parts.password))
    elif parts.username and "@" in parts.netloc:  # a token given as the user name
        register_secret(parts.username)
        register_secret(urllib.parse.unquote(parts.username))


def _git(url: str, fragment: str, display: str) -> Spec:
    ref, commit, subdir = _split_fragment(fragment)
    return Spec("git", url, display, git=GitSpec(url, ref, commit, subdir))


def parse_spec(context: str, bucket: str = "", environ: dict[str, str] | None = None) -> Spec:
    """The source ``--context`` (or ``--bucket``, which wins, as in kaniko) names."""
    env = os.environ if environ is None else environ
    if bucket:
        context = bucket if "://" in bucket else f"gs://{bucket}"
    if "://" not in context:
        return Spec("dir", context, context)
    scheme, rest = context.split("://", 1)
    lowered = scheme.lower()
    if lowered == "dir":
        return Spec("dir", rest, context)
    if lowered == "tar":
        if rest == STDIN:
            return Spec("stdin", STDIN, context)
        if not rest:
            raise UsageError(f"--context {context}: want tar://PATH or tar://stdin")
        return Spec("tar", rest, context)
    if lowered in ("s3", "gs"):
        name, key = _bucket_and_key(rest, lowered, context)
        kind = "s3" if lowered == "s3" else "gcs"
        return Spec(kind, context, f"{lowered}://{name}/{key}", bucket=name, key=key)
    if lowered in ("http", "https"):
        _register_userinfo(context)
        for name, value in urllib.parse.parse_qsl(urllib.parse.urlsplit(context).query):
            if name.lower() == "sig":
                register_secret(value)
                register_secret(urllib.parse.quote(value, safe=""))
        display = redact_url(context)
        azure = _AZURE_HOST.match(context)
        if azure is not None:
            container, _, blob = azure.group("path").split("?", 1)[0].partition("/")
            if not container or not blob:
                raise UsageError(f"--context {display}: want https://ACCOUNT.blob.../C/BLOB")
            return Spec(
                "azure",
                context,
                display,
                bucket=container,
                key=urllib.parse.unquote(blob),
                account=azure.group("account"),
            )
        base, _, fragment = context.partition("#")
        if urllib.parse.urlsplit(base).path.endswith(".git"):
            return _git(base, fragment, display)
        if fragment:
            raise UsageError(f"--context {display}: a #fragment is only read from git URLs")
        return Spec("http", context, display)
    if lowered == "git":
        method = env.get("GIT_PULL_METHOD", "")
        method = method if method in ("https", "http", "git") else "https"
        base, _, fragment = rest.partition("#")
        url = f"{method}://{base}"
        _register_userinfo(url)
        return _git(url, fragment, redact_url(context))
    raise UsageError(
        f"--context {redact_url(context)}: unknown build context prefix {scheme}://, "
        f"please use one of the following: {PREFIXES}"
    )
