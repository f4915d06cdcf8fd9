"""An Azure Container Registry of the lab: a real registry behind ACR's own token endpoints.

ACR serves its OAuth endpoints on the registry's host (Azure/acr ``docs/AAD-OAuth.md``):

- ``POST /oauth2/exchange`` (``grant_type=access_token``, ``service``, ``tenant``,
  ``access_token``): a Microsoft Entra access token for Azure Resource Manager, issued by
  the lab's :class:`~tests.lab.clouds.Entra` for the lab tenant, is exchanged for an ACR
  refresh token (a JWT with an ``exp``, valid three hours);
- ``POST /oauth2/token`` (``grant_type=refresh_token``, ``service``, ``scope``,
  ``refresh_token``), or ``GET`` with Basic ``00000000-0000-0000-0000-000000000000`` and
  the refresh token: a registry access token for the scopes, signed by the lab's
  :class:`~tests.lab.tokens.TokenService` whose key the registry trusts.

So :class:`AcrFront` listens with TLS under the ACR name (its certificate from the lab CA
names it), answers those two paths itself and relays every other request to the CNCF
registry behind it, whose Bearer challenge names the front's ``/oauth2/token`` as realm and
the ACR host as service. As ACR, it answers a blob download with a redirect to blob
storage (:class:`BlobStorage`, another origin, which records the ``Authorization``
headers it is sent). Request and response bodies are small in tests and are relayed whole.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.lab.clouds import LAB_TENANT, Entra, LabServer
from tests.lab.pki import TestCA
from tests.lab.registry import Registry, start_registry
from tests.lab.tokens import TokenService

NULL_USER = "00000000-0000-0000-0000-000000000000"
_BLOB = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class BlobStorage(LabServer):
    """Where ACR's blob downloads are redirected: SAS-style URLs, one per download."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.authorization: list[str | None] = []  # the header of every request
        super().__init__()

    def put(self, data: bytes) -> str:
        key = secrets.token_hex(8)
        self.blobs[key] = data
        return f"{self.url}/blobs/{key}?sv=2023-11-03&sr=b&sig={secrets.token_urlsafe(12)}"

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple:
        self.authorization.append(headers.get("Authorization"))
        key = urllib.parse.urlsplit(path).path.rsplit("/", 1)[-1]
        if key not in self.blobs:
            return 404, {}, b"BlobNotFound"
        return 200, {"Content-Type": "application/octet-stream"}, self.blobs[key]


class AcrFront:
    """An ACR named ``name`` (e.g. ``labacr.azurecr.io``) on a loopback port."""

    def __init__(self, directory: Path, ca: TestCA, entra: Entra, name: str) -> None:
        self.entra = entra
        self.storage = BlobStorage()
        self.refresh_tokens: dict[str, float] = {}  # token -> end
        self.exchanges: list[dict[str, str]] = []  # forms of every exchange, for assertions
        files = ca.issue(f"acr-{name}", dns_names=(name,))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files.cert, files.key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.host = f"{name}:{self._server.server_address[1]}"  # what clients name it
        directory.mkdir(parents=True, exist_ok=True)
        self.tokens = TokenService(directory, users={})
        self.tokens.service = self.host
        self.registry: Registry = start_registry(
            directory / "registry",
            token_service=self.tokens,
            realm=f"https://{self.host}/oauth2/token",
        )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.registry.stop()
        self.storage.stop()

    # -- ACR's endpoints ------------------------------------------------------------------
    def exchange(self, form: dict[str, str]) -> tuple[int, dict]:
        self.exchanges.append(form)
        if form.get("grant_type") != "access_token":
            return 400, {"errors": [{"code": "UNSUPPORTED", "message": "grant_type"}]}
        if form.get("service") != self.host or form.get("tenant", LAB_TENANT) != LAB_TENANT:
            return 400, {"errors": [{"code": "DENIED", "message": "wrong service or tenant"}]}
        if not self.entra.valid(form.get("access_token", "")):
            return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid AAD token"}]}
        refresh = self.tokens.sign("acr-refresh", [], ttl=3 * 3600)
        self.refresh_tokens[refresh] = time.time() + 3 * 3600
        return 200, {"refresh_token": refresh}

    def token(self, refresh: str, service: str, scopes: list[str]) -> tuple[int, dict]:
        end = self.refresh_tokens.get(refresh)
        if end is None or time.time() >= end or service != self.host:
            return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid refresh token"}]}
        access = self.tokens.issue("acr-identity", {"*": ("pull", "push")}, scopes)
        return 200, {"access_token": access}

    # -- HTTP ---------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        data += self.rfile.read(size)
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return data
                length = int(self.headers.get("Content-Length", "0") or 0)
                return self.rfile.read(length) if length else b""

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if not any(n.lower() == "content-length" for n, _ in headers):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _json(self, status: int, payload: dict) -> None:
                self._reply(
                    status, [("Content-Type", "application/json")], json.dumps(payload).encode()
                )

            def _serve(self) -> None:
                body = self._body()
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/oauth2/exchange" and self.command == "POST":
                    form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                    return self._json(*front.exchange(form))
                if url.path == "/oauth2/token":
                    return self._token(url, body)
                self._relay(body)

            def _token(self, url: urllib.parse.SplitResult, body: bytes) -> None:
                if self.command == "POST":
                    form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                    if form.get("grant_type") != "refresh_token":
                        return self._json(400, {"errors": [{"code": "UNSUPPORTED"}]})
                    scopes = form.get("scope", "").split()
                    return self._json(*front.token(form.get("refresh_token", ""),
                                                   form.get("service", ""), scopes))  # fmt: skip
                query = urllib.parse.parse_qs(url.query)
                user, _, secret = (
                    base64.b64decode(
                        self.headers.get("Authorization", "Basic ").removeprefix("Basic ")
                    )
                    .decode()
                    .partition(":")
                )
                if user != NULL_USER:
                    return self._json(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                service = query.get("service", [""])[0]
                return self._json(*front.token(secret, service, query.get("scope", [])))

            def _relay(self, body: bytes) -> None:
                upstream = http.client.HTTPConnection(front.registry.host, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers["X-Forwarded-Proto"] = "https"
                headers["Content-Length"] = str(len(body))
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP]
                    if self.command == "GET" and answer.status == 200 and _BLOB.search(self.path):
                        location = front.storage.put(data)
                        return self._reply(307, [("Location", location)], b"")
                    if self.command != "HEAD":
                        kept = [(k, v) for k, v in kept if k.lower() != "content-length"]
                        kept.append(("Content-Length", str(len(data))))
                    self._reply(answer.status, kept, data)
                finally:
                    upstream.close()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler
