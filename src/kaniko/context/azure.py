"""``https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB``: an Azure blob, streamed.

How the request is authorised, first match wins:

1. a SAS token in the URL's query (``?sv=…&sig=…``), sent as it is;
2. kaniko's ``AZURE_STORAGE_ACCESS_KEY``: the account key, as a Shared Key signature;
3. ``AZURE_STORAGE_CONNECTION_STRING`` naming this account: its ``AccountKey`` or
   ``SharedAccessSignature`` (its ``BlobEndpoint`` also moves the endpoint, which is how
   an emulator such as Azurite is reached);
4. ``AZURE_STORAGE_SAS_TOKEN``;
5. a Microsoft Entra token from :mod:`kaniko.cloud.azure` (service principal, workload
   identity, managed identity).

Shared Key is the documented HMAC-SHA256 over the request's canonical form ("Authorize
with Shared Key", Blob service version 2021-12-02); the blob is one ``GET``, read in 1 MiB
pieces straight into the tar reader.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import urllib.parse
from email.utils import formatdate
from pathlib import Path

import httpx

from kaniko.cloud import azure
from kaniko.context.archive import reader, unpack
from kaniko.context.spec import Spec
from kaniko.errors import ContextError, CredentialsError
from kaniko.redact import register_secret

API_VERSION = "2021-12-02"
TIMEOUT = httpx.Timeout(120.0, connect=30.0)
_SIGNED_HEADERS = (
    "content-encoding", "content-language", "content-length", "content-md5", "content-type",
    "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range",
)  # fmt: skip


def connection_string(account: str) -> dict[str, str]:
    """``AZURE_STORAGE_CONNECTION_STRING``'s fields, if it names ``account`` (else {})."""
    text = os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "")
    fields = dict(part.split("=", 1) for part in text.split(";") if "=" in part and part.strip())
    if fields.get("AccountName") != account:
        return {}
    register_secret(fields.get("AccountKey"))
    register_secret(fields.get("SharedAccessSignature"))
    return fields


def shared_key(account: str, key: str, method: str, url: str, headers: dict[str, str]) -> str:
    """The ``Authorization`` value of a Shared Key request."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if lowered.get("content-length") == "0":
        lowered["content-length"] = ""
    lines = [method.upper(), *(lowered.get(name, "") for name in _SIGNED_HEADERS)]
    canonical_headers = "".join(
        f"{name}:{lowered[name].strip()}\n" for name in sorted(lowered) if name.startswith("x-ms-")
    )
    parts = urllib.parse.urlsplit(url)
    resource = f"/{account}{parts.path or '/'}"
    query: dict[str, list[str]] = {}
    for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(name.lower(), []).append(value)
    for name in sorted(query):
        resource += f"\n{name}:{','.join(sorted(query[name]))}"
    text = "\n".join(lines) + "\n" + canonical_headers + resource
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return f"SharedKey {account}:{base64.b64encode(digest).decode()}"


def _request(spec: Spec) -> tuple[str, dict[str, str], str]:
    """(URL, headers, how it is authorised) for ``spec``'s blob."""
    given = urllib.parse.urlsplit(spec.location)
    fields = connection_string(spec.account)
    endpoint = fields.get("BlobEndpoint", "").rstrip("/")
    if endpoint:
        path = f"/{urllib.parse.quote(spec.bucket)}/{urllib.parse.quote(spec.key)}"
        url = endpoint + path + (f"?{given.query}" if given.query else "")
    else:
        url = urllib.parse.urlunsplit(given._replace(fragment=""))
    headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": API_VERSION}
    query = urllib.parse.parse_qs(given.query)
    if "sig" in query:
        return url, headers, "SAS token in the URL"
    key = azure.storage_account_key()
    if key:
        headers["Authorization"] = shared_key(spec.account, key, "GET", url, headers)
        return url, headers, "AZURE_STORAGE_ACCESS_KEY"
    if fields.get("AccountKey"):
        headers["Authorization"] = shared_key(
            spec.account, fields["AccountKey"], "GET", url, headers
        )
        return url, headers, "AZURE_STORAGE_CONNECTION_STRING"
    sas = fields.get("SharedAccessSignature") or azure.sas_token()
    if sas:
        return f"{url}{'&' if '?' in url else '?'}{sas.lstrip('?')}", headers, "SAS token"
    token = azure.access_token()
    headers["Authorization"] = f"Bearer {token.value}"
    return url, headers, token.source


def _explain(response: httpx.Response, how: str) -> str:
    code = response.headers.get("x-ms-error-code", "")
    if response.status_code == 404:
        what = {"BlobNotFound": "no such blob", "ContainerNotFound": "no such container"}
        return what.get(code, f"not found ({code or 'HTTP 404'})")
    if response.status_code in (401, 403):
        return f"access denied with {how} ({code or response.status_code})"
    return f"HTTP {response.status_code}" + (f" ({code})" if code else "")


def fetch_azure(spec: Spec, dest: Path, limit: int, client: httpx.Client | None = None) -> None:
    """Stream ``spec``'s blob into the tar reader, unpacking into ``dest``."""
    try:
        url, headers, how = _request(spec)
    except CredentialsError as e:
        raise ContextError(f"{spec.display}: {e}") from None
    own = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                response.read()
                raise ContextError(f"{spec.display}: {_explain(response, how)}")
            unpack(reader(response.iter_bytes(1 << 20)), dest, limit=limit, source=spec.display)
    except httpx.HTTPError as e:
        raise ContextError(f"{spec.display}: {type(e).__name__}: {e}") from None
    finally:
        if own:
            client.close()
