"""ADD from http(s) URLs: download, verify ``--checksum``, keep ``Last-Modified``.

What BuildKit's HTTP source does: the file is named after the last component of the URL's
path (``__unnamed__`` when there is none), gets mode 0600 (unless ``--chmod``) and owner 0:0
(unless ``--chown``), and its mtime is the response's ``Last-Modified`` when there is one.
A status of 400 or more fails the step; ``--checksum=<algorithm>:<hex>`` is checked
against the downloaded bytes. Git sources (``git@…``, ``git://``, ``ssh://``, or an
http(s) URL whose path ends in ``.git``) are not supported yet.
"""

from __future__ import annotations

import hashlib
import posixpath
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from kaniko.attest.materials import report_url
from kaniko.errors import BuildError, ImageError
from kaniko.iotools import CHUNK
from kaniko.oci.digest import Digest

_NS = 1_000_000_000


def is_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def is_git(src: str) -> bool:
    """Whether ``src`` names a git repository (a source kaniko cannot fetch yet)."""
    if src.startswith(("git@", "git://", "ssh://", "git+ssh://", "git+https://")):
        return True
    if is_url(src):
        return urlsplit(src).path.endswith(".git")
    return False


def shown(url: str) -> str:
    """``url`` without a password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def url_file_name(url: str) -> str:
    """The name BuildKit gives a downloaded file: the URL path's last component."""
    base = posixpath.basename(urlsplit(url).path)
    return base if base not in ("", ".", "/") else "__unnamed__"


def parse_checksum(text: str, keyword: str) -> Digest:
    try:
        return Digest.parse(text)
    except ImageError as e:
        raise BuildError(f"{keyword} --checksum={text}: {e}") from None


@dataclass(frozen=True, slots=True)
class Download:
    """A downloaded file, stored at host ``path``."""

    url: str
    path: str
    name: str
    mtime_ns: int


def download(
    url: str,
    path: str,
    *,
    client: httpx.Client | None,
    checksum: Digest | None = None,
    keyword: str = "ADD",
) -> Download:
    """Download ``url`` to host file ``path``; BuildError on any failure."""
    label = f"{keyword} {shown(url)}"
    own = client is None
    http = client if client is not None else httpx.Client(timeout=60.0)
    hasher = hashlib.new(checksum.algorithm if checksum else "sha256")
    try:
        with http.stream("GET", url, follow_redirects=True) as response:
            if response.status_code >= 400:
                raise BuildError(f"{label}: {response.status_code} {response.reason_phrase}")
            with open(path, "wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
            modified = response.headers.get("Last-Modified")
    except httpx.HTTPError as e:
        raise BuildError(f"{label}: {type(e).__name__}: {e}") from e
    finally:
        if own:
            http.close()
    if checksum is not None and hasher.hexdigest() != checksum.hex:
        actual = f"{checksum.algorithm}:{hasher.hexdigest()}"
        raise BuildError(f"{label}: checksum mismatch: expected {checksum}, got {actual}")
    report_url(url, Digest(hasher.name, hasher.hexdigest()))  # for --provenance
    return Download(url, path, url_file_name(url), _mtime_ns(modified))


def _mtime_ns(header: str | None) -> int:
    if header:
        try:
            return int(parsedate_to_datetime(header).timestamp()) * _NS
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return time.time_ns()
