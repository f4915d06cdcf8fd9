"""Four lab registries playing Amazon ECR, Google Artifact Registry, Azure ACR and GitLab's.

Each is a real CNCF registry with TLS from the lab CA, under a host name of its cloud
(resolved to loopback: :mod:`tests.lab.names`), which accepts exactly the credentials its
cloud's flow produces and nothing else:

- **ECR** ``123456789012.dkr.ecr.us-east-1.amazonaws.com:PORT``: Basic auth, as ECR, for
  user ``AWS`` and the password moto's ``GetAuthorizationToken`` returns for that account.
  The identity comes from moto's STS ``AssumeRoleWithWebIdentity`` (IRSA:
  ``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE``; ``AWS_ENDPOINT_URL`` points botocore
  at moto). moto checks no signatures when the web identity call is unsigned, so the
  proof that IRSA was used is that no other AWS source exists in the environment.
- **GCR** ``europe-west4-docker.pkg.dev:PORT``: Bearer tokens from the lab token service
  for user ``oauth2accesstoken`` and a password that is an access token the lab's GCE
  metadata server issued and that has not expired.
- **ACR** ``kanikolab.azurecr.io:PORT``: :class:`tests.lab.acr.AcrFront`, whose exchange
  takes only an Entra token of the lab's :class:`~tests.lab.clouds.Entra`, which issues
  one only for the federated token written to ``federated-token``.
- **GitLab** ``registry.gitlab.lab.example:PORT``: Bearer tokens for ``gitlab-ci-token``
  and the job token.

:meth:`CloudRegistries.env` gives the variables a pod of each cloud would have.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.lab.acr import AcrFront
from tests.lab.clouds import (
    LAB_ACCOUNT,
    LAB_CLIENT_ID,
    LAB_TENANT,
    Entra,
    GceMetadata,
    ecr_password,
    ecr_role,
)
from tests.lab.objectstores import Server, start_moto
from tests.lab.pki import TestCA
from tests.lab.registry import Registry, start_registry
from tests.lab.tokens import TokenService, User

ECR_NAME = f"{LAB_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
GCR_NAME = "europe-west4-docker.pkg.dev"
ACR_NAME = "kanikolab.azurecr.io"
GITLAB_NAME = "registry.gitlab.lab.example"
NAMES = (ECR_NAME, GCR_NAME, ACR_NAME, GITLAB_NAME)
ALL = {"*": ("pull", "push")}


def _named(registry: Registry, name: str) -> str:
    return f"{name}:{registry.host.rsplit(':', 1)[1]}"


@dataclass
class CloudRegistries:
    """The running lab: hosts by cloud, the servers behind them, and their secrets."""

    directory: Path
    ca: TestCA
    moto: Server
    metadata: GceMetadata
    entra: Entra
    acr: AcrFront
    registries: dict[str, Registry]
    hosts: dict[str, str]  # "ecr" | "gcr" | "acr" | "gitlab" -> "name:port"
    role_arn: str
    web_identity_token: Path  # IRSA's projected service account token
    federated_token: Path  # AKS workload identity's projected token
    job_token: str = field(repr=False)

    def env(self, cloud: str, files: dict[str, str] | None = None) -> dict[str, str]:
        """The variables of a pod of ``cloud``; ``files`` maps the token files' host
        paths to the paths a pod sees them at."""
        where = files or {}

        def path(p: Path) -> str:
            return where.get(str(p), str(p))

        if cloud == "ecr":
            return {"AWS_ROLE_ARN": self.role_arn,
                    "AWS_WEB_IDENTITY_TOKEN_FILE": path(self.web_identity_token),
                    "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_STS_REGIONAL_ENDPOINTS": "regional",
                    "AWS_ENDPOINT_URL": self.moto.url,
                    "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip
        if cloud == "gcr":
            return self.metadata.env()
        if cloud == "acr":
            return {"AZURE_TENANT_ID": LAB_TENANT, "AZURE_CLIENT_ID": LAB_CLIENT_ID,
                    "AZURE_FEDERATED_TOKEN_FILE": path(self.federated_token),
                    "AZURE_AUTHORITY_HOST": self.entra.url}  # fmt: skip
        if cloud == "gitlab":
            return {"CI_REGISTRY": self.hosts["gitlab"], "CI_REGISTRY_USER": "gitlab-ci-token",
                    "CI_REGISTRY_PASSWORD": self.job_token}  # fmt: skip
        raise ValueError(cloud)

    def stop(self) -> None:
        for registry in self.registries.values():
            registry.stop()
        self.acr.stop()
        self.entra.stop()
        self.metadata.stop()
        self.moto.stop()


def start_cloud_registries(directory: Path, ca: TestCA) -> CloudRegistries:
    """Start everything (about two seconds, most of it moto); stop with ``.stop()``.
    What was started is stopped again if a later piece fails to start."""
    directory.mkdir(parents=True, exist_ok=True)
    started: list[Any] = []

    def keep(thing: Any) -> Any:
        started.append(thing)
        return thing

    try:
        moto = keep(start_moto(directory / "moto"))
        role = ecr_role(moto.url)
        irsa = directory / "eks-token"
        irsa.write_text("eyJhbGciOiJSUzI1NiIsImtpZCI6ImxhYiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFj"
                        "Y291bnQ6Y2k6a2FuaWtvIn0.bGFiLXNpZ25hdHVyZQ")  # fmt: skip
        federated = directory / "azure-identity-token"
        assertion = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGk6Ly9BenVyZUFEVG9rZW5FeGNoYW5nZSJ9.c2ln"
        federated.write_text(assertion + "\n")
        metadata = keep(GceMetadata())
        entra = keep(Entra(assertion=assertion))
        acr = keep(AcrFront(directory / "acr", ca, entra, ACR_NAME))
        job_token = "glcbt-64_" + secrets.token_urlsafe(15)
        ecr_users = {"AWS": ecr_password()}
        ecr = keep(
            start_registry(
                directory / "ecr", tls_ca=ca, htpasswd_users=ecr_users, dns_names=(ECR_NAME,)
            )
        )
        for name in ("gcr-tokens", "gitlab-tokens"):
            (directory / name).mkdir(exist_ok=True)
        gcr_users = {"oauth2accesstoken": User("", ALL, check=metadata.valid)}
        gcr_service = TokenService(directory / "gcr-tokens", gcr_users)
        gcr = keep(
            start_registry(
                directory / "gcr", tls_ca=ca, token_service=gcr_service, dns_names=(GCR_NAME,)
            )
        )
        gitlab_service = TokenService(
            directory / "gitlab-tokens", {"gitlab-ci-token": User(job_token, ALL)}
        )
        gitlab = keep(
            start_registry(
                directory / "gitlab",
                tls_ca=ca,
                token_service=gitlab_service,
                dns_names=(GITLAB_NAME,),
            )
        )
    except BaseException:
        for thing in reversed(started):
            thing.stop()
        raise
    registries = {"ecr": ecr, "gcr": gcr, "gitlab": gitlab}
    hosts = {
        "ecr": _named(ecr, ECR_NAME),
        "gcr": _named(gcr, GCR_NAME),
        "acr": acr.host,
        "gitlab": _named(gitlab, GITLAB_NAME),
    }
    return CloudRegistries(directory, ca, moto, metadata, entra, acr, registries, hosts,
                           role, irsa, federated, job_token)  # fmt: skip
