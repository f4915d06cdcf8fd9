"""Azure Container Registry: a Microsoft Entra token exchanged for an ACR refresh token.

What ``docker-credential-acr-env`` does, in-process, following ACR's documented AAD
OAuth flow (Azure/acr ``docs/AAD-OAuth.md``):

1. a Microsoft Entra access token for Azure Resource Manager from the environment
   (:func:`kaniko.cloud.azure.access_token`: a service principal secret, workload
   identity's federated token, managed identity);
2. ``POST https://REGISTRY/oauth2/exchange`` with ``grant_type=access_token``,
   ``service=REGISTRY``, ``tenant`` and ``access_token``, answered with
   ``{"refresh_token": …}``;
3. that refresh token is the registry credential (docker's ``identitytoken``): the
   authenticator trades it at the registry's token realm (``/oauth2/token``,
   ``grant_type=refresh_token``) for access tokens per scope.

Hosts: ``*.azurecr.io`` and the sovereign clouds' ``.azurecr.cn``, ``.azurecr.de``,
``.azurecr.us``. (The Go helper's pattern is unanchored, so ``x.azurecr.io.example.com``
would get an Entra token; here the suffix must end the host name.) The exchange is sent to
the registry through its own HTTP client (its TLS settings), and never over plain HTTP to
a host that is not loopback. The refresh token lives about three hours; its JWT ``exp``
says exactly, and the keychain renews it before then.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping

import httpx

from kaniko.errors import CredentialsError
from kaniko.redact import register_secret
from kaniko.refs.grammar import is_loopback_registry
from kaniko.registry.credential import Credential, hostname
from kaniko.registry.helpers import Link

_SUFFIXES = (".azurecr.io", ".azurecr.cn", ".azurecr.de", ".azurecr.us")


class AcrHelper:
    """``acr-env`` (also ``acr``): Azure registries, with the Entra identity."""

    name = "acr-env"
    serves = "Azure Container Registry hosts (*.azurecr.io, .cn, .de, .us)"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def owns(self, host: str) -> bool:
        return hostname(host).endswith(_SUFFIXES)

    def get(self, host: str, link: Link | None) -> Credential:
        from kaniko.cloud import azure

        base = link.base_url if link is not None else f"https://{host}"
        if base.startswith("http://") and not is_loopback_registry(host):
            raise CredentialsError(
                f"refusing to send a Microsoft Entra token to {host} over plain HTTP"
            )
        entra = azure.access_token(azure.MANAGEMENT_SCOPE)
        form = {"grant_type": "access_token", "service": host, "access_token": entra.value}
        tenant = self._environ.get("AZURE_TENANT_ID")
        if tenant:
            form["tenant"] = tenant
        url = f"{base.rstrip('/')}/oauth2/exchange"
        what = f"ACR token exchange at {url} with a {entra.source} token"
        try:
            if link is not None:
                response = link.http.post(url, data=form)
            else:
                with httpx.Client(timeout=30.0) as client:
                    response = client.post(url, data=form)
        except httpx.HTTPError as e:
            raise CredentialsError(f"{what}: {e}") from None
        if response.status_code != 200:
            raise CredentialsError(f"{what}: HTTP {response.status_code}{_detail(response)}")
        try:
            body = response.json()
        except ValueError:
            raise CredentialsError(f"{what}: the answer is not JSON") from None
        refresh = body.get("refresh_token") if isinstance(body, dict) else None
        if not refresh or not isinstance(refresh, str):
            raise CredentialsError(f"{what}: the answer holds no refresh_token")
        register_secret(refresh)
        return Credential(
            identity_token=refresh,
            expires_at=_jwt_expiry(refresh) or entra.expires_on,
            source=f"the acr-env helper (in-process, {entra.source})",
        )


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return f": {first.get('code', '')}: {first.get('message', '')}".rstrip(": ")
    if isinstance(body, dict) and body.get("error"):
        return f": {body.get('error_description') or body['error']}".splitlines()[0]
    return ""


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (only to know when to renew)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
