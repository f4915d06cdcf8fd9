"""AWS credentials and clients through botocore, the AWS SDK's own core.

botocore resolves the standard chain exactly as the AWS CLI and SDKs do: environment
variables, ``assume-role`` and web identity (IRSA: ``AWS_ROLE_ARN`` +
``AWS_WEB_IDENTITY_TOKEN_FILE``) profiles, SSO, the shared credentials and config files
(``AWS_PROFILE``, ``AWS_SHARED_CREDENTIALS_FILE``, ``AWS_CONFIG_FILE``),
``credential_process``, the ECS/EKS container endpoint and EC2 instance metadata
(``AWS_EC2_METADATA_DISABLED=true`` turns the last one off). :func:`credentials` returns
what the chain found, or raises one :class:`~kaniko.errors.CredentialsError` naming each
provider it tried.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import botocore.config
import botocore.exceptions
import botocore.session

from kaniko.errors import CredentialsError
from kaniko.redact import register_secret

DEFAULT_REGION = "us-east-1"

# botocore's provider names, as a user would recognise them.
_PROVIDERS = {
    "env": "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
    "assume-role": "assume-role profile",
    "assume-role-with-web-identity": "web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)",
    "sso": "SSO profile",
    "shared-credentials-file": "shared credentials file",
    "login": "console login profile",
    "custom-process": "credential_process",
    "config-file": "shared config file",
    "ec2-credentials-file": "EC2 credentials file",
    "boto-config": "boto config file",
    "container-role": "container credentials endpoint (ECS/EKS)",
    "iam-role": "EC2 instance metadata",
}


@dataclass(frozen=True)
class AwsCredentials:
    """Credentials the chain found; ``method`` names the provider that gave them."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    method: str = ""
    expires_at: datetime | None = None


def session() -> botocore.session.Session:
    """A botocore session reading this process's environment and AWS files."""
    return botocore.session.Session()


def region(sess: botocore.session.Session | None = None) -> str:
    """``AWS_REGION``, else ``AWS_DEFAULT_REGION`` or the profile's region, else us-east-1."""
    chosen = os.environ.get("AWS_REGION") or (sess or session()).get_config_variable("region")
    return chosen or DEFAULT_REGION


def tried(sess: botocore.session.Session) -> list[str]:
    """The providers of ``sess``'s chain, in order, as readable names."""
    resolver = sess.get_component("credential_provider")
    return [_PROVIDERS.get(p.METHOD, p.METHOD) for p in resolver.providers]


def credentials(sess: botocore.session.Session | None = None) -> AwsCredentials:
    """The first credentials of the standard chain; :class:`CredentialsError` if none."""
    sess = sess or session()
    try:
        found = sess.get_credentials()
        frozen = found.get_frozen_credentials() if found is not None else None
    except botocore.exceptions.BotoCoreError as e:
        raise CredentialsError(f"AWS credentials: {e}") from None
    if frozen is None or not frozen.access_key:
        raise CredentialsError("no AWS credentials found; tried: " + ", ".join(tried(sess)))
    register_secret(frozen.secret_key)
    register_secret(frozen.token)
    expiry = getattr(found, "_expiry_time", None)
    return AwsCredentials(
        frozen.access_key,
        frozen.secret_key,
        frozen.token,
        method=getattr(found, "method", ""),
        expires_at=expiry if isinstance(expiry, datetime) else None,
    )


def client(
    service: str,
    *,
    sess: botocore.session.Session | None = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    s3: Mapping[str, Any] | None = None,
) -> Any:
    """A botocore client of ``service`` with the chain's credentials (checked first, so a
    missing identity fails here with the list of what was tried) and standard retries."""
    sess = sess or session()
    credentials(sess)  # the session keeps them (and refreshes them if they expire)
    config = botocore.config.Config(
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=30,
        read_timeout=120,
        s3=dict(s3 or {}),
    )
    return sess.create_client(
        service,
        region_name=region_name or region(sess),
        endpoint_url=endpoint_url or None,
        config=config,
    )
