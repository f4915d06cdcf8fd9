"""``gs://BUCKET/OBJECT`` (and ``--bucket``): a Cloud Storage object, streamed and unpacked.

The token comes from :mod:`kaniko.cloud.gcp` (google-auth's application default
credentials); the object is read with one media download of the Cloud Storage JSON API
(``GET /download/storage/v1/b/BUCKET/o/OBJECT?alt=media``), streamed into the tar reader.
``STORAGE_EMULATOR_HOST`` (the variable Google's client libraries read) sends the request
to an emulator instead, without credentials, as those libraries do.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import httpx

from kaniko.cloud import gcp
from kaniko.context.archive import reader, unpack
from kaniko.context.spec import Spec
from kaniko.errors import ContextError, CredentialsError

API = "https://storage.googleapis.com"
TIMEOUT = httpx.Timeout(120.0, connect=30.0)


def media_url(base: str, bucket: str, name: str) -> str:
    quoted = urllib.parse.quote(name, safe="")
    return f"{base.rstrip('/')}/download/storage/v1/b/{bucket}/o/{quoted}?alt=media"


def _base() -> tuple[str, bool]:
    """(API base URL, whether to authenticate)."""
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator:
        return (emulator if "://" in emulator else f"http://{emulator}"), False
    return API, True


def _explain(response: httpx.Response) -> str:
    message = ""
    try:
        message = response.json().get("error", {}).get("message", "")
    except (ValueError, AttributeError):
        message = response.text[:200] if response.text else ""
    if response.status_code == 404:
        return "no such bucket or object" + (f" ({message})" if message else "")
    if response.status_code in (401, 403):
        return f"access denied (HTTP {response.status_code})" + (f": {message}" if message else "")
    return f"HTTP {response.status_code}" + (f": {message}" if message else "")


def fetch_gcs(spec: Spec, dest: Path, limit: int, client: httpx.Client | None = None) -> None:
    """Stream ``spec``'s object into the tar reader, unpacking into ``dest``."""
    base, authenticate = _base()
    headers = {}
    if authenticate:
        try:
            token = gcp.access_token()
        except CredentialsError as e:
            raise ContextError(f"{spec.display}: {e}") from None
        headers["Authorization"] = f"Bearer {token.value}"
    own = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    url = media_url(base, spec.bucket, spec.key)
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                response.read()
                raise ContextError(f"{spec.display}: {_explain(response)}")
            unpack(reader(response.iter_bytes(1 << 20)), dest, limit=limit, source=spec.display)
    except httpx.HTTPError as e:
        raise ContextError(f"{spec.display}: {type(e).__name__}: {e}") from None
    finally:
        if own:
            client.close()
