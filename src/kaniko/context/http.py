"""``https://…`` (and ``http://…``) tarball contexts, downloaded and unpacked as they stream.

The Go kaniko reads any ``https://`` URL that is not an Azure blob as a ``.tar.gz``; here
any compression is read, ``http://`` is accepted too (as BuildKit does), redirects are
followed and the response must be 200. Credentials in the URL's userinfo are sent as Basic
auth and never logged. TLS trusts the system's CAs (``SSL_CERT_FILE``/``SSL_CERT_DIR``).
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import httpx

from kaniko.context.archive import reader, unpack
from kaniko.context.spec import Spec
from kaniko.errors import ContextError

TIMEOUT = httpx.Timeout(60.0, connect=30.0)


def _split_auth(url: str) -> tuple[str, tuple[str, str] | None]:
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    host = parts.netloc.rsplit("@", 1)[1]
    auth = (urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or ""))
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), auth


def fetch_http(spec: Spec, dest: Path, limit: int, client: httpx.Client | None = None) -> None:
    """Download ``spec.location`` and unpack it into ``dest``."""
    url, auth = _split_auth(spec.location)
    own = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        with client.stream("GET", url, auth=auth) as response:
            if response.status_code != 200:
                raise ContextError(
                    f"{spec.display}: HTTP {response.status_code} {response.reason_phrase}"
                )
            # iter_bytes undoes a Content-Encoding; the archive's own compression stays.
            unpack(reader(response.iter_bytes(1 << 20)), dest, limit=limit, source=spec.display)
    except httpx.HTTPError as e:
        raise ContextError(f"{spec.display}: {type(e).__name__}: {e}") from None
    finally:
        if own:
            client.close()
