"""Registry error bodies turned into one clear line.

Registries answer failures with ``{"errors": [{"code": ..., "message": ..., "detail": ...}]}``
(distribution spec). The line names the registry, the repository (and reference) and the
codes, e.g. ``registry 127.0.0.1:5000: lab/app:v1: MANIFEST_UNKNOWN: manifest unknown``.
Secrets are never part of it: only the codes and messages the registry sent, which are
redacted like every other line.
"""

from __future__ import annotations

import json

import httpx

from kaniko.errors import RegistryError
from kaniko.redact import redact

# Codes worth retrying (the registry itself says so), besides HTTP 408, 429 and 5xx.
_TEMPORARY_CODES = {"TOOMANYREQUESTS", "UNAVAILABLE"}
_STATUS_CODES = {
    401: "UNAUTHORIZED",
    403: "DENIED",
    404: "NOT_FOUND",
    405: "UNSUPPORTED",
    429: "TOOMANYREQUESTS",
}


class RegistryStatusError(RegistryError):
    """A registry answered with an error status."""

    def __init__(self, message: str, status: int, codes: tuple[str, ...]) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes

    @property
    def temporary(self) -> bool:
        return is_temporary_status(self.status) or any(c in _TEMPORARY_CODES for c in self.codes)


def is_temporary_status(status: int) -> bool:
    """HTTP statuses that may succeed when tried again."""
    return status in (408, 429) or (status >= 500 and status not in (501, 505))


def is_transient(error: Exception) -> bool:
    """Whether a failure of the HTTP stack may pass when the request is sent again.

    A dropped or reset connection, a truncated answer, a timeout: yes (as ggcr and
    containerd retry them). A refused certificate, a redirect loop, a URL or protocol the
    client cannot use, a cancelled build: no, those fail at once.
    """
    if not isinstance(error, httpx.TransportError):
        return False
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False
    text = str(error)
    if isinstance(error, httpx.ConnectError) and ("CERTIFICATE" in text or "SSL" in text):
        return False  # the TLS handshake failed: it fails the same way again
    return not text.startswith("cancelled")


def describe(error: Exception) -> str:
    """One line for a failure of the HTTP stack (``error`` is any httpx exception)."""
    if isinstance(error, httpx.TooManyRedirects):
        return "too many redirects (a redirect loop?)"
    if isinstance(error, httpx.ConnectTimeout):
        return "connection timed out (--registry-connect-timeout)"
    text = (str(error) or type(error).__name__).splitlines()[0]
    if isinstance(error, httpx.TimeoutException) and "--registry-" not in text:
        return "no answer in time (--registry-read-timeout)"
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return f"unusable URL: {text}"
    return text


def error_codes(response: httpx.Response) -> list[tuple[str, str]]:
    """The (code, message) pairs of a registry error body; empty if there are none."""
    try:
        body = json.loads(response.content or b"{}")
    except (ValueError, UnicodeDecodeError):
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    pairs = []
    for item in errors:
        if isinstance(item, dict):
            code = str(item.get("code") or "UNKNOWN")
            message = str(item.get("message") or "").strip()
            pairs.append((code, message.splitlines()[0] if message else ""))
    return pairs


def registry_error(response: httpx.Response, registry: str, what: str) -> RegistryStatusError:
    """The error for a failed response; ``what`` names the repository and reference."""
    pairs = error_codes(response)
    if not pairs:
        code = _STATUS_CODES.get(response.status_code, f"HTTP {response.status_code}")
        pairs = [(code, response.reason_phrase.lower() if response.reason_phrase else "")]
    detail = "; ".join(f"{code}: {msg}" if msg else code for code, msg in pairs)
    line = redact(f"registry {registry}: {what}: {detail}")
    return RegistryStatusError(line, response.status_code, tuple(c for c, _ in pairs))
