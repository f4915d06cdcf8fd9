"""``--digest-file``, ``--image-name-with-digest-file`` and ``--image-name-tag-with-digest-file``.

Formats follow the Go kaniko (``pkg/executor/push.go``):

* the digest file holds the manifest digest, ``sha256:<hex>``, with no newline;
* the name files hold one line per ``--destination``, each ending in a newline:
  ``<registry>/<repository>@<digest>``, or ``<registry>/<repository>:<tag>@<digest>`` for the
  tag variant. Names are fully qualified as go-containerregistry spells them
  (``ubuntu`` → ``index.docker.io/library/ubuntu``) and an untagged destination has the tag
  ``latest``.

Missing parent directories are created (mode 0700) and files get mode 0644. A path starting
with ``https://`` is sent as an HTTP PUT (a pre-signed bucket URL), ``text/plain``.

One deliberate difference: the Go kaniko writes both name files from one buffer, so with
the tag variant set, the plain name file gets tags too; here each file has its own format.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import httpx

from kaniko.errors import FilesystemError, ImageError
from kaniko.fs.atomic import write_atomic
from kaniko.oci.digest import Digest
from kaniko.refs import InvalidReferenceError, parse_tagged


def image_name_lines(destinations: Sequence[str], digest: Digest, *, with_tag: bool) -> str:
    """The content of a name file: one ``name[:tag]@digest`` line per destination."""
    lines = []
    for destination in destinations:
        try:
            ref = parse_tagged(destination)
        except InvalidReferenceError as exc:
            raise ImageError(f"cannot write an image name file: {exc}") from None
        tag = f":{ref.tag}" if with_tag and ref.tag else ""
        lines.append(f"{ref.name}{tag}@{digest}\n")
    return "".join(lines)


def write_output_file(path: str, content: str, *, client: httpx.Client | None = None) -> None:
    """Write ``content`` to ``path``, or PUT it when ``path`` is an ``https://`` URL."""
    data = content.encode()
    if path.startswith("https://"):
        _put(path, data, client)
        return
    try:
        _make_parents(os.path.dirname(os.path.abspath(path)))
        write_atomic(path, data, 0o644)
    except OSError as exc:
        raise FilesystemError(f"cannot write {path}: {exc}") from exc


def _make_parents(directory: str) -> None:
    """Create ``directory`` and any missing ancestors, each with mode 0700 (as kaniko does)."""
    missing = []
    while not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for path in reversed(missing):
        os.mkdir(path, 0o700)


def _put(url: str, data: bytes, client: httpx.Client | None) -> None:
    headers = {"Content-Type": "text/plain"}
    where = url.split("?", 1)[0]  # a pre-signed URL's query string is a credential
    try:
        if client is None:
            response = httpx.put(url, content=data, headers=headers, timeout=30)
        else:
            response = client.put(url, content=data, headers=headers)
    except httpx.HTTPError as exc:
        # The message of an httpx error may quote the URL, query string included: no
        # chained cause either, so that no trace log shows it.
        raise FilesystemError(f"cannot PUT {where}: {type(exc).__name__}") from None
    if response.status_code >= 300:
        raise FilesystemError(f"PUT {where} answered HTTP {response.status_code}")


def write_digest_files(
    digest: Digest,
    destinations: Sequence[str],
    *,
    digest_file: str | None = None,
    name_file: str | None = None,
    name_tag_file: str | None = None,
    client: httpx.Client | None = None,
) -> None:
    """Write whichever of the three digest outputs is asked for."""
    if digest_file:
        write_output_file(digest_file, str(digest), client=client)
    if name_file:
        content = image_name_lines(destinations, digest, with_tag=False)
        write_output_file(name_file, content, client=client)
    if name_tag_file:
        content = image_name_lines(destinations, digest, with_tag=True)
        write_output_file(name_tag_file, content, client=client)
