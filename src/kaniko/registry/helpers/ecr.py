"""Amazon ECR: the AWS credential chain, then ``GetAuthorizationToken``.

What ``docker-credential-ecr-login`` (amazon-ecr-credential-helper) does, in-process:

- A private registry is ``ACCOUNT.dkr.ecr.REGION.DOMAIN`` (or ``dkr-ecr``, the
  dual-stack form), ``ecr-fips`` for a FIPS endpoint, with DOMAIN one of the partitions'
  (``amazonaws.com``, ``amazonaws.com.cn``, ``amazonaws.eu``, ``on.aws``,
  ``on.amazonwebservices.com.cn`` and the ISO ones). ECR's ``GetAuthorizationToken`` for
  that account, in that region (at its FIPS endpoint for ``ecr-fips``), answers a base64
  ``AWS:password`` valid for 12 hours.
- ``public.ecr.aws`` (and its dual-stack name) is ECR Public: its own
  ``GetAuthorizationToken`` in us-east-1. Public images pull anonymously, so no AWS
  identity there is no error.

The identity is botocore's standard chain (:mod:`kaniko.cloud.aws`): IRSA's web identity,
EKS Pod Identity and ECS container credentials, instance metadata, the shared files.
``AWS_ENDPOINT_URL_ECR`` (botocore's own variable) moves the ECR API, as for a VPC endpoint.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass
from typing import Any

from kaniko.errors import CredentialsError
from kaniko.redact import register_secret
from kaniko.registry.credential import Credential, hostname
from kaniko.registry.helpers import Link

log = logging.getLogger(__name__)

_DOMAINS = (
    r"amazonaws\.com(?:\.cn)?|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn"
    r"|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov"
)
_PRIVATE = re.compile(
    r"^(?P<account>\d{12})\.dkr[.-]ecr(?P<fips>-fips)?"
    rf"\.(?P<region>[a-z0-9][a-z0-9_-]*)\.(?:{_DOMAINS})$"
)
PUBLIC_HOSTS = frozenset({"public.ecr.aws", "ecr-public.aws.com"})
PUBLIC_REGION = "us-east-1"  # the only region of the ECR Public API


@dataclass(frozen=True)
class EcrRegistry:
    """An ECR registry named by a host: private (account and region) or ECR Public."""

    account: str = ""
    region: str = PUBLIC_REGION
    fips: bool = False

    @property
    def public(self) -> bool:
        return not self.account


def parse(host: str) -> EcrRegistry | None:
    """The ECR registry ``host`` names, or None when it is not an ECR host."""
    name = hostname(host)
    if name in PUBLIC_HOSTS:
        return EcrRegistry()
    match = _PRIVATE.match(name)
    if match is None:
        return None
    return EcrRegistry(match["account"], match["region"], bool(match["fips"]))


class EcrHelper:
    """``ecr-login``: ECR registries, with the AWS chain's identity."""

    name = "ecr-login"
    serves = "Amazon ECR hosts (ACCOUNT.dkr.ecr.REGION.amazonaws.com, public.ecr.aws)"

    def owns(self, host: str) -> bool:
        return parse(host) is not None

    def get(self, host: str, link: Link | None) -> Credential:
        # botocore is imported when an ECR registry is first met, not at startup
        import botocore.exceptions

        from kaniko.cloud import aws

        registry = parse(host)
        if registry is None:
            raise CredentialsError(f"{host} is not an Amazon ECR registry")
        session = aws.session()
        identity = aws.credentials(session)  # NoCredentialsError lists the chain
        what = (
            "ECR Public GetAuthorizationToken"
            if registry.public
            else f"ECR GetAuthorizationToken for account {registry.account} in {registry.region}"
            + (" (FIPS endpoint)" if registry.fips else "")
        )
        service = "ecr-public" if registry.public else "ecr"
        region = PUBLIC_REGION if registry.public else registry.region
        client = aws.client(service, sess=session, region_name=region, fips=registry.fips)
        try:
            if registry.public:
                data: Any = client.get_authorization_token().get("authorizationData")
            else:
                found = client.get_authorization_token(registryIds=[registry.account])
                data = (found.get("authorizationData") or [None])[0]
        except botocore.exceptions.ClientError as e:
            error = e.response.get("Error", {})
            detail = f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
            raise CredentialsError(f"{what} as {_who(identity)}: {detail}") from None
        except botocore.exceptions.BotoCoreError as e:
            raise CredentialsError(f"{what} as {_who(identity)}: {e}") from None
        finally:
            client.close()  # its connection pool, not left to the collector
        return _credential(data, what, aws.provider_name(identity.method))


def _who(identity: Any) -> str:
    from kaniko.cloud import aws

    return f"{identity.access_key_id} ({aws.provider_name(identity.method or 'unknown')})"


def _credential(data: Any, what: str, method: str) -> Credential:
    token = data.get("authorizationToken") if isinstance(data, dict) else None
    if not token:
        raise CredentialsError(f"{what}: the answer holds no authorization token")
    register_secret(token)
    try:
        decoded = base64.b64decode(token, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise CredentialsError(f"{what}: the authorization token is not base64") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise CredentialsError(f"{what}: the authorization token is not user:password")
    expires = data.get("expiresAt")
    return Credential(
        username,
        password,
        expires_at=expires.timestamp() if hasattr(expires, "timestamp") else None,
        source=f"the ecr-login helper (in-process, {method or 'AWS credentials'})",
    )
