"""A Bearer-token service of the lab's own, as the distribution registry's `auth: token` expects.

It checks Basic credentials, grants each user the actions its rules allow on each
requested repository scope, and signs a real JWT (ES256) whose `kid` is the libtrust key
id of the signing key, which the registry finds in its `rootcertbundle`.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key id docker/libtrust derives: base32 of sha256(DER SPKI)[:30], in 4-char groups."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, len(b32), 4))


@dataclass
class User:
    password: str
    # repository glob -> actions granted ("pull", "push", "delete", "*")
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # instead of ``password``: whether a password is valid now (a cloud's short-lived
    # access token, checked with the lab server that issued it)
    check: Callable[[str], bool] | None = None

    def accepts(self, password: str) -> bool:
        if self.check is not None:
            return self.check(password)
        return secrets.compare_digest(self.password, password)


class TokenService:
    """Issues registry tokens over HTTP on a loopback port (run it with start())."""

    issuer = "kaniko-lab-issuer"
    service = "kaniko-lab-registry"

    def __init__(self, directory: Path, users: dict[str, User], anonymous: dict | None = None):
        self.users = users
        self.anonymous_grants: dict[str, tuple[str, ...]] = anonymous or {}
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.kid = libtrust_key_id(self._key.public_key())
        self.bundle = directory / "token-signer.pem"
        self.bundle.write_bytes(self._self_signed().public_bytes(serialization.Encoding.PEM))
        self.issued: list[dict] = []  # claims of every token issued, for assertions
        self.refused: list[str] = []  # user names whose credentials were refused
        self._server: ThreadingHTTPServer | None = None

    def _self_signed(self) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kaniko lab token signer")])
        now = dt.datetime.now(dt.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .sign(self._key, hashes.SHA256())
        )

    # -- tokens -------------------------------------------------------------------------
    def _granted(self, grants: dict[str, tuple[str, ...]], repo: str, wanted: list[str]) -> list:
        allowed: set[str] = set()
        for pattern, actions in grants.items():
            if fnmatch.fnmatchcase(repo, pattern):
                allowed.update(actions)
        if "*" in allowed:
            return wanted
        return [a for a in wanted if a in allowed]

    def sign(self, subject: str, access: list[dict], ttl: int = 300) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + ttl,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        header = {"typ": "JWT", "alg": "ES256", "kid": self.kid}
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        self.issued.append(claims)
        return signing_input + "." + _b64url(signature)

    def token_for(self, username: str | None, password: str | None, scopes: list[str]) -> str:
        """A token for the scopes the user may have; raises PermissionError on bad creds."""
        if username is None:
            grants, subject = self.anonymous_grants, ""
        else:
            user = self.users.get(username)
            if user is None or not user.accepts(password or ""):
                self.refused.append(username)
                raise PermissionError("bad credentials")
            grants, subject = user.grants, username
        return self.issue(subject, grants, scopes)

    def issue(self, subject: str, grants: dict[str, tuple[str, ...]], scopes: list[str]) -> str:
        """A signed token granting ``subject`` what ``grants`` allow of ``scopes``."""
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            repo, wanted = ":".join(parts[1:-1]), parts[-1].split(",")
            actions = self._granted(grants, repo, wanted)
            access.append({"type": "repository", "name": repo, "actions": actions})
        return self.sign(subject, access)

    # -- HTTP ---------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1") -> str:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def _creds(self) -> tuple[str | None, str | None]:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return None, None
                raw = base64.b64decode(header[6:]).decode()
                user, _, password = raw.partition(":")
                return user, password

            def _answer(self, username, password, scopes) -> None:
                try:
                    token = service.token_for(username, password, scopes)
                except PermissionError:
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"errors":[{"code":"UNAUTHORIZED"}]}')
                    return
                body = json.dumps(
                    {"token": token, "access_token": token, "expires_in": 300}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                user, password = self._creds()
                self._answer(user, password, query.get("scope", []))

            def do_POST(self) -> None:  # OAuth2 password grant, as some clients use
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                scopes = " ".join(form.get("scope", [])).split()
                user = form.get("username", [None])[0]
                password = form.get("password", [None])[0]
                self._answer(user, password, scopes)

        self._server = ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        port = self._server.server_address[1]
        self.realm = f"http://{host}:{port}/token"
        return self.realm

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
