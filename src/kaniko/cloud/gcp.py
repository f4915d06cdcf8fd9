"""Google Cloud credentials through google-auth (application default credentials).

google-auth is Google's own implementation of the ADC chain that the Go kaniko reaches
through the Go client libraries: ``GOOGLE_APPLICATION_CREDENTIALS`` (a service account
key, an authorized user, workload identity federation or an impersonation file), the
gcloud ADC file (``~/.config/gcloud/application_default_credentials.json``), then the
metadata server (GCE, Cloud Run, GKE workload identity; ``GCE_METADATA_HOST`` moves it,
``NO_GCE_CHECK=true`` skips it). :func:`access_token` returns a fresh bearer token, or
raises one :class:`~kaniko.errors.CredentialsError` naming every place it looked.

google-auth decides whether a metadata server exists by asking ``169.254.169.254``, three
times with a 3 s timeout: off Google Cloud, where that address often drops packets, a
``FROM gcr.io/distroless/…`` would wait 9 s to learn that it may pull anonymously. As the
Go metadata client does, :func:`metadata_server_likely` first looks for a cheaper sign
(``GCE_METADATA_HOST``, a Google DMI product name, ``metadata.google.internal``
resolving) and the chain skips the server when there is none.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import google.auth
import google.auth.exceptions
import google.auth.transport.requests
import requests

from kaniko.errors import CredentialsError, NoCredentialsError
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


_DMI_PRODUCT = "/sys/class/dmi/id/product_name"
_METADATA_NAME = "metadata.google.internal."  # the trailing dot skips search domains


def metadata_server_likely() -> bool:
    """Whether a metadata server may answer here (cheap checks, no request to it)."""
    if os.environ.get("NO_GCE_CHECK", "").lower() == "true":
        return False
    if os.environ.get("GCE_METADATA_HOST") or os.environ.get("GCE_METADATA_ROOT"):
        return True
    try:
        with open(_DMI_PRODUCT, encoding="utf-8", errors="replace") as handle:
            if handle.read().strip().startswith("Google"):
                return True
    except OSError:
        pass
    try:
        return bool(socket.getaddrinfo(_METADATA_NAME, 80, proto=socket.IPPROTO_TCP))
    except (OSError, UnicodeError):
        return False


def _has_explicit_source() -> bool:
    return bool(os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")) or os.path.exists(_adc_file())


def tried(*, probed: bool = True) -> list[str]:
    """Where the chain looks, in order, with what this environment has there; with
    ``probed=False`` the metadata server was skipped as absent (no sign of Google Cloud)."""
    explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    metadata = os.environ.get("GCE_METADATA_HOST") or "metadata.google.internal"
    skip = os.environ.get("NO_GCE_CHECK", "").lower() == "true"
    note = " (skipped: NO_GCE_CHECK)" if skip else ""
    if not skip and not probed:
        note = " (absent: not on Google Cloud)"
    return [
        f"GOOGLE_APPLICATION_CREDENTIALS ({explicit or 'unset'})",
        f"the gcloud ADC file {_adc_file()}" + ("" if os.path.exists(_adc_file()) else " (absent)"),
        f"the metadata server {metadata}{note}",
    ]


@contextlib.contextmanager
def _request() -> Iterator[google.auth.transport.requests.Request]:
    """google-auth's HTTP transport over one requests session, closed after (google-auth
    would otherwise open a session per call and leave its sockets to the collector)."""
    # requests: google-auth's metadata-server client imports it anyway
    with requests.Session() as session:
        yield google.auth.transport.requests.Request(session)


def access_token(scopes: tuple[str, ...] = (READ_ONLY,)) -> GcpToken:
    """A bearer token from the application default credentials."""
    if not _has_explicit_source() and not metadata_server_likely():
        raise NoCredentialsError(
            "no Google credentials found; tried: " + ", ".join(tried(probed=False))
        )
    with _request() as request:
        return _access_token(scopes, request)


def _access_token(
    scopes: tuple[str, ...], request: google.auth.transport.requests.Request
) -> GcpToken:
    try:
        creds, _project = google.auth.default(scopes=list(scopes), request=request)
    except google.auth.exceptions.DefaultCredentialsError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "not found" in first.lower() or "could not automatically" in first.lower():
            raise NoCredentialsError(
                "no Google credentials found; tried: " + ", ".join(tried())
            ) from None
        raise CredentialsError(f"Google credentials: {first}") from None
    try:
        creds.refresh(request)  # type: ignore[no-untyped-call]  # google-auth leaves it unannotated
    except google.auth.exceptions.GoogleAuthError as e:
        raise CredentialsError(f"Google credentials ({type(creds).__name__}): {e}") from None
    token = creds.token
    if not token:
        raise CredentialsError(f"Google credentials ({type(creds).__name__}) gave no token")
    register_secret(token)
    return GcpToken(token, getattr(creds, "expiry", None), type(creds).__module__)
