"""Cloud identity services of the lab, on loopback, speaking their documented protocols.

- :class:`GceMetadata`: the GCE metadata server (``GCE_METADATA_HOST``/``GCE_METADATA_IP``
  point at it): only requests with ``Metadata-Flavor: Google`` and no
  ``X-Forwarded-For`` are served, answers carry ``Metadata-Flavor: Google``; the service
  account's info, its access token (``/instance/service-accounts/*/token``), the project.
- :class:`Entra`: Microsoft Entra ID's v2.0 token endpoint
  (``POST /{tenant}/oauth2/v2.0/token``, ``AZURE_AUTHORITY_HOST`` points at it) for the
  client-credentials grant with a client secret or a federated client assertion.
- :class:`EcrPublic`: ECR Public's ``GetAuthorizationToken`` (JSON 1.1,
  ``X-Amz-Target: SpencerFrontendService.GetAuthorizationToken``; moto has no ECR Public),
  answering only SigV4-signed requests of the access key it was given.
- :func:`ecr_role`: an IAM role on moto that web identity may assume and that may call
  ``ecr:GetAuthorizationToken`` (moto answers ``AWS:<account>-auth-token``).

Every token handed out is recorded with its end, so that a registry's token service can
accept exactly the tokens these flows produce while they are valid (:meth:`valid`).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LAB_ACCOUNT = "123456789012"
LAB_TENANT = "72f988bf-0000-4000-8000-00000000c0de"
LAB_CLIENT_ID = "5a1b0c4e-0000-4000-8000-0000000000b1"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"


class LabServer:
    """A threading HTTP server on a loopback port whose requests go to ``handle``."""

    def __init__(self) -> None:
        self.tokens: dict[str, float] = {}  # token -> when it ends (epoch)
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append(f"{self.command} {self.path}")
                status, headers, payload = owner.handle(self.command, self.path, self.headers, body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple:
        raise NotImplementedError

    def mint(self, prefix: str, lifetime: float) -> str:
        token = f"{prefix}.{secrets.token_urlsafe(24)}"
        self.tokens[token] = time.time() + lifetime
        return token

    def valid(self, token: str) -> bool:
        """Whether ``token`` was issued here and has not ended."""
        end = self.tokens.get(token)
        return end is not None and time.time() < end

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class GceMetadata(LabServer):
    """The metadata server of a VM (or a GKE pod with workload identity)."""

    email = "builder@lab-project.iam.gserviceaccount.com"

    def __init__(self, lifetime: float = 3599) -> None:
        self.lifetime = lifetime
        super().__init__()

    def env(self) -> dict[str, str]:
        """The variables that point google-auth here."""
        return {"GCE_METADATA_HOST": self.host, "GCE_METADATA_IP": self.host}

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple:
        flavor = {"Metadata-Flavor": "Google"}
        if headers.get("Metadata-Flavor") != "Google" or headers.get("X-Forwarded-For"):
            return 403, {}, b"Missing required header: Metadata-Flavor"
        url = urllib.parse.urlsplit(path)
        route = url.path.removeprefix("/computeMetadata/v1").rstrip("/")
        accounts = "/instance/service-accounts/"
        if route == "":
            return 200, {**flavor, "Content-Type": "application/text"}, b"computeMetadata/\n"
        if route == "/project/project-id":
            return 200, {**flavor, "Content-Type": "application/text"}, b"lab-project"
        if route == "/universe/universe-domain":
            return 200, {**flavor, "Content-Type": "application/text"}, b"googleapis.com"
        if route.startswith(accounts):
            account, _, leaf = route[len(accounts) :].partition("/")
            if account not in ("default", self.email):
                return 404, flavor, b"not found"
            if leaf == "":
                info = {"aliases": ["default"], "email": self.email,
                        "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}  # fmt: skip
                return 200, {**flavor, "Content-Type": "application/json"}, info
            if leaf == "token":
                token = self.mint("ya29.lab", self.lifetime)
                answer = {"access_token": token, "expires_in": int(self.lifetime),
                          "token_type": "Bearer"}  # fmt: skip
                return 200, {**flavor, "Content-Type": "application/json"}, answer
        return 404, flavor, b"not found"


class Entra(LabServer):
    """Microsoft Entra ID's token endpoint for one tenant and one application."""

    def __init__(self, *, secret: str | None = None, assertion: str | None = None) -> None:
        self.secret, self.assertion = secret, assertion
        self.lifetime = 3599
        super().__init__()

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple:
        if method != "POST" or path != f"/{LAB_TENANT}/oauth2/v2.0/token":
            return 404, {}, {"error": "invalid_request", "error_description": "no such tenant"}
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != LAB_CLIENT_ID:
            return 400, {}, {"error": "unauthorized_client", "error_description": "AADSTS700016"}
        if form.get("scope") != MANAGEMENT_SCOPE:
            return 400, {}, {"error": "invalid_scope", "error_description": "AADSTS70011"}
        by_secret = self.secret is not None and form.get("client_secret") == self.secret
        by_assertion = (
            self.assertion is not None
            and form.get("client_assertion_type")
            == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            and form.get("client_assertion") == self.assertion
        )
        if not (by_secret or by_assertion):
            return 401, {}, {"error": "invalid_client", "error_description": "AADSTS7000215"}
        token = self.mint("eyJ0eXAiOiJKV1Qi.entra", self.lifetime)
        return 200, {}, {"token_type": "Bearer", "expires_in": self.lifetime,
                         "ext_expires_in": self.lifetime, "access_token": token}  # fmt: skip


class EcrPublic(LabServer):
    """ECR Public's GetAuthorizationToken for one AWS access key."""

    def __init__(self, access_key_id: str) -> None:
        self.access_key_id = access_key_id
        super().__init__()

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple:
        target = headers.get("X-Amz-Target", "")
        if target != "SpencerFrontendService.GetAuthorizationToken":
            return 400, {}, {"__type": "UnknownOperationException"}
        signed = headers.get("Authorization", "")
        if f"Credential={self.access_key_id}/" not in signed or "/ecr-public/" not in signed:
            message = "The security token included in the request is invalid."
            return 403, {}, {"__type": "UnrecognizedClientException", "message": message}
        password = self.mint("public", 12 * 3600)
        token = base64.b64encode(f"AWS:{password}".encode()).decode()
        data = {"authorizationToken": token, "expiresAt": self.tokens[password]}
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, {"authorizationData": data}


def ecr_role(moto_url: str, role: str = "builder", *, allow_ecr: bool = True) -> str:
    """On a moto started with ``auth_after`` ≥ 2: a role trusting an OIDC provider (as an
    EKS cluster's IRSA role does) with ``ecr:GetAuthorizationToken`` allowed or not;
    returns its ARN."""
    import botocore.session

    session = botocore.session.Session()
    setup = {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    iam = session.create_client("iam", endpoint_url=moto_url, region_name="us-east-1", **setup)
    provider = f"arn:aws:iam::{LAB_ACCOUNT}:oidc-provider/oidc.eks.lab.example/id/LAB"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
             "Principal": {"Federated": provider},
             "Action": "sts:AssumeRoleWithWebIdentity"}]}  # fmt: skip
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    action = "ecr:GetAuthorizationToken" if allow_ecr else "ecr:DescribeRepositories"
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": [action], "Resource": "*"}]}  # fmt: skip
    iam.put_role_policy(RoleName=role, PolicyName="ecr", PolicyDocument=json.dumps(policy))
    return str(arn)


def ecr_password(account: str = LAB_ACCOUNT) -> str:
    """The password moto's GetAuthorizationToken gives for ``account`` (``AWS:<this>``)."""
    return f"{account}-auth-token"
