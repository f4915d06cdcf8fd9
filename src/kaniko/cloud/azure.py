"""Azure credentials: storage account keys, SAS tokens and Microsoft Entra tokens.

The Go kaniko reads a blob context with ``AZURE_STORAGE_ACCESS_KEY`` (shared key) only.
Here a blob may also be read with a SAS token (in the URL's query, or
``AZURE_STORAGE_SAS_TOKEN``) or a Microsoft Entra bearer token. :func:`access_token`
follows the order of azure-identity's ``DefaultAzureCredential`` for the sources that
exist in a build pod:

1. a service principal secret: ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``,
   ``AZURE_CLIENT_SECRET``;
2. workload identity (AKS): ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``,
   ``AZURE_FEDERATED_TOKEN_FILE``;
3. managed identity: App Service's ``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``, else the
   instance metadata service (``AZURE_POD_IDENTITY_AUTHORITY_HOST`` moves it), with
   ``AZURE_CLIENT_ID`` choosing a user-assigned identity.

``AZURE_AUTHORITY_HOST`` moves the Entra endpoint (sovereign clouds). Each is one
documented OAuth 2.0 request, done here with httpx rather than with azure-identity, whose
dependencies (msal, requests, cryptography) would not fit the executor image; see
docs/contexts.md. Failure is one :class:`~kaniko.errors.CredentialsError` listing every
source tried.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import httpx

from kaniko.errors import CredentialsError
from kaniko.redact import register_secret

STORAGE_SCOPE = "https://storage.azure.com/.default"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
IMDS = "http://169.254.169.254"
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class AzureToken:
    """A Microsoft Entra bearer token and the source that gave it."""

    value: str = field(repr=False)
    expires_on: float
    source: str


def storage_account_key() -> str | None:
    """``AZURE_STORAGE_ACCESS_KEY`` (kaniko's variable), registered as a secret."""
    key = os.environ.get("AZURE_STORAGE_ACCESS_KEY") or None
    register_secret(key)
    return key


def sas_token() -> str | None:
    """``AZURE_STORAGE_SAS_TOKEN`` without a leading ``?``, registered as a secret."""
    token = (os.environ.get("AZURE_STORAGE_SAS_TOKEN") or "").lstrip("?") or None
    register_secret(token)
    return token


def _authority() -> str:
    host = os.environ.get("AZURE_AUTHORITY_HOST") or DEFAULT_AUTHORITY
    return host if "://" in host else f"https://{host}"


def _token(response: httpx.Response, source: str) -> AzureToken:
    if response.status_code != 200:
        detail = ""
        try:
            body = response.json()
            detail = body.get("error_description") or body.get("error") or ""
        except ValueError:
            pass
        first = str(detail).splitlines()[0] if detail else ""
        raise CredentialsError(
            f"Azure {source}: HTTP {response.status_code}" + (f": {first}" if first else "")
        )
    body = response.json()
    value = body.get("access_token")
    if not value:
        raise CredentialsError(f"Azure {source}: the response holds no access_token")
    register_secret(value)
    if body.get("expires_on"):
        expires = float(body["expires_on"])
    else:
        expires = time.time() + float(body.get("expires_in") or 3600)
    return AzureToken(value, expires, source)


def _entra(client: httpx.Client, tenant: str, form: dict[str, str], source: str) -> AzureToken:
    url = f"{_authority().rstrip('/')}/{tenant}/oauth2/v2.0/token"
    return _token(client.post(url, data=form), source)


def _managed_identity(client: httpx.Client, scope: str) -> AzureToken | None:
    resource = scope.removesuffix("/.default")
    client_id = os.environ.get("AZURE_CLIENT_ID")
    endpoint, header = os.environ.get("IDENTITY_ENDPOINT"), os.environ.get("IDENTITY_HEADER")
    if endpoint and header:
        register_secret(header)
        params = {"api-version": "2019-08-01", "resource": resource}
        if client_id:
            params["client_id"] = client_id
        response = client.get(endpoint, params=params, headers={"X-IDENTITY-HEADER": header})
        return _token(response, "managed identity (IDENTITY_ENDPOINT)")
    base = os.environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or IMDS
    params = {"api-version": "2018-02-01", "resource": resource}
    if client_id:
        params["client_id"] = client_id
    try:
        response = client.get(
            f"{base.rstrip('/')}/metadata/identity/oauth2/token",
            params=params,
            headers={"Metadata": "true"},
            timeout=httpx.Timeout(10.0, connect=2.0),
        )
    except httpx.TransportError:
        return None  # no metadata service here
    return _token(response, "managed identity (instance metadata)")


def tried() -> list[str]:
    """The sources :func:`access_token` looks at, in order."""
    return [
        "service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)",
        "workload identity (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE)",
        "managed identity (IDENTITY_ENDPOINT, else the instance metadata service "
        f"{os.environ.get('AZURE_POD_IDENTITY_AUTHORITY_HOST') or IMDS})",
    ]


def access_token(scope: str = STORAGE_SCOPE, client: httpx.Client | None = None) -> AzureToken:
    """A Microsoft Entra token for ``scope`` from the first source that is configured."""
    own = client is None
    client = client or httpx.Client(timeout=30.0)
    try:
        tenant, client_id = os.environ.get("AZURE_TENANT_ID"), os.environ.get("AZURE_CLIENT_ID")
        secret = os.environ.get("AZURE_CLIENT_SECRET")
        assertion_file = os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
        if tenant and client_id and secret:
            register_secret(secret)
            form = {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "scope": scope,
            }
            return _entra(client, tenant, form, "service principal")
        if tenant and client_id and assertion_file:
            try:
                with open(assertion_file, encoding="utf-8") as handle:
                    assertion = handle.read().strip()
            except OSError as e:
                raise CredentialsError(
                    f"Azure workload identity: cannot read {assertion_file}: {e.strerror}"
                ) from None
            register_secret(assertion)
            form = {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_assertion_type": _ASSERTION_TYPE,
                "client_assertion": assertion,
                "scope": scope,
            }
            return _entra(client, tenant, form, "workload identity")
        try:
            found = _managed_identity(client, scope)
        except httpx.HTTPError as e:
            raise CredentialsError(f"Azure managed identity: {e}") from None
        if found is None:
            raise CredentialsError("no Azure credentials found; tried: " + ", ".join(tried()))
        return found
    except httpx.HTTPError as e:
        raise CredentialsError(f"Azure credentials: {e}") from None
    finally:
        if own:
            client.close()
