"""Google Container Registry and Artifact Registry: an ADC access token as the password.

As go-containerregistry's ``google.Keychain`` (which the Go kaniko chains after the docker
config): hosts ``gcr.io``, ``*.gcr.io``, ``*.pkg.dev`` and ``*.google.com``; user
``oauth2accesstoken``, password an OAuth2 access token of the application default
credentials (:mod:`kaniko.cloud.gcp`: a key file, the gcloud ADC file, workload identity
federation, the metadata server of GCE, Cloud Run and GKE workload identity) for the
``cloud-platform`` scope. The keychain keeps it per registry host until shortly before it
expires (an hour), and asks again when a registry refuses it.
"""

from __future__ import annotations

import datetime as dt

from kaniko.registry.credential import Credential, hostname
from kaniko.registry.helpers import Link

_SUFFIXES = (".gcr.io", ".pkg.dev", ".google.com")


def google_host(host: str) -> bool:
    name = hostname(host)
    return name == "gcr.io" or name.endswith(_SUFFIXES)


class GoogleHelper:
    """``gcr`` (also ``gcloud``): Google registries, with the ADC identity."""

    name = "gcr"
    serves = "Google registries (gcr.io, *.gcr.io, *.pkg.dev)"

    def owns(self, host: str) -> bool:
        return google_host(host)

    def get(self, host: str, link: Link | None) -> Credential:
        value, expires_at = _fetch()
        return Credential(
            "oauth2accesstoken",
            value,
            expires_at=expires_at,
            source="the gcr helper (in-process, application default credentials)",
        )


def _fetch() -> tuple[str, float | None]:
    # google-auth (and requests) are imported when a Google registry is first met
    from kaniko.cloud import gcp

    token = gcp.access_token((gcp.CLOUD_PLATFORM,))
    expiry = token.expires_at
    if expiry is not None and expiry.tzinfo is None:  # google-auth's expiry is naive UTC
        expiry = expiry.replace(tzinfo=dt.UTC)
    return token.value, expiry.timestamp() if expiry is not None else None
