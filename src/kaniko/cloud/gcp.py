"""Google Cloud credentials through google-auth (application default credentials).

google-auth is Google's own implementation of the ADC chain that the Go kaniko reaches
through the Go client libraries: ``GOOGLE_APPLICATION_CREDENTIALS`` (a service account
key, an authorized user, workload identity federation or an impersonation file), the
gcloud ADC file (``~/.config/gcloud/application_default_credentials.json``), then the
metadata server (GCE, Cloud Run, GKE workload identity; ``GCE_METADATA_HOST`` moves it,
``NO_GCE_CHECK=true`` skips it). :func:`access_token` returns a fresh bearer token, or
raises one :class:`~kaniko.errors.CredentialsError` naming every place it looked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

import google.auth
import google.auth.exceptions
import google.auth.transport.requests

from kaniko.errors import CredentialsError
from kaniko.redact import register_secret

READ_ONLY = "https://www.googleapis.com/auth/devstorage.read_only"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


@dataclass(frozen=True)
class GcpToken:
    """A bearer token and what it came from."""

    value: str = field(repr=False)
    expires_at: datetime | None = None
    source: str = ""


def _adc_file() -> str:
    config = os.environ.get("CLOUDSDK_CONFIG") or os.path.join(
        os.path.expanduser("~"), ".config", "gcloud"
    )
    return os.path.join(config, "application_default_credentials.json")


def tried() -> list[str]:
    """Where the chain looks, in order, with what this environment has there."""
    explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    metadata = os.environ.get("GCE_METADATA_HOST") or "metadata.google.internal"
    skip = os.environ.get("NO_GCE_CHECK", "").lower() == "true"
    return [
        f"GOOGLE_APPLICATION_CREDENTIALS ({explicit or 'unset'})",
        f"the gcloud ADC file {_adc_file()}" + ("" if os.path.exists(_adc_file()) else " (absent)"),
        f"the metadata server {metadata}" + (" (skipped: NO_GCE_CHECK)" if skip else ""),
    ]


def _request() -> google.auth.transport.requests.Request:
    # requests: google-auth's metadata-server client imports it anyway
    return google.auth.transport.requests.Request()


def access_token(scopes: tuple[str, ...] = (READ_ONLY,)) -> GcpToken:
    """A bearer token from the application default credentials."""
    try:
        creds, _project = google.auth.default(scopes=list(scopes))
    except google.auth.exceptions.DefaultCredentialsError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "not found" in first.lower() or "could not automatically" in first.lower():
            raise CredentialsError(
                "no Google credentials found; tried: " + ", ".join(tried())
            ) from None
        raise CredentialsError(f"Google credentials: {first}") from None
    try:
        creds.refresh(_request())  # type: ignore[no-untyped-call]  # google-auth leaves it unannotated
    except google.auth.exceptions.GoogleAuthError as e:
        raise CredentialsError(f"Google credentials ({type(creds).__name__}): {e}") from None
    token = creds.token
    if not token:
        raise CredentialsError(f"Google credentials ({type(creds).__name__}) gave no token")
    register_secret(token)
    return GcpToken(token, getattr(creds, "expiry", None), type(creds).__module__)
