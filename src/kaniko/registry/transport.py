"""Reaching registries: scheme, TLS, client certificates and authentication per registry.

One :class:`Transport` serves a whole build. For each registry and purpose (pull or push)
it decides, with the Go kaniko's flags and meaning:

- plain HTTP: allowed for ``--insecure`` (pushes), ``--insecure-pull`` (pulls),
  ``--insecure-registry R`` (both) and always for loopback registries (``localhost``,
  ``127.0.0.0/8``, ``::1``). As in go-containerregistry, HTTPS is tried first and plain
  HTTP only when HTTPS cannot be spoken;
- TLS verification: skipped for ``--skip-tls-verify`` (both), ``--skip-tls-verify-pull``
  (pulls) and ``--skip-tls-verify-registry R``; ``--registry-certificate R=CA.pem`` adds a
  CA to the system's; ``--registry-client-cert R=cert,key`` presents a client certificate.

The answer of the first ``GET /v2/`` picks the scheme and teaches the
:class:`~kaniko.registry.auth.Authenticator` its challenge; a ping that fails in a way
that may pass (a 503, a dropped connection) is tried again, with backoff, up to
``retries`` more times.

Every connection goes through :mod:`kaniko.registry.network`: connect, read and
whole-request deadlines from the options, and :meth:`Transport.cancel` (or
:func:`~kaniko.registry.network.cancel_all`) stops every transfer in progress at once.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx

from kaniko import __version__
from kaniko.errors import RegistryError
from kaniko.options import RegistryOptions
from kaniko.refs.grammar import is_loopback_registry
from kaniko.registry.auth import Authenticator, reason
from kaniko.registry.errors import is_temporary_status, is_transient
from kaniko.registry.keychain import Keychain, normalize_key
from kaniko.registry.network import RegistryHTTPTransport, TrackingBackend

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = f"kaniko-python/{__version__}"
MAX_REDIRECTS = 10  # blob GETs are redirected to storage once; a loop ends here


def timeouts(options: RegistryOptions) -> httpx.Timeout:
    """httpx's per-operation timeouts from the options (0 means none)."""
    connect = options.connect_timeout or None
    read = options.read_timeout or None
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


@dataclass(frozen=True)
class Endpoint:
    """A registry reached for one purpose: its base URL, HTTP client and authenticator."""

    registry: str
    base_url: str
    http: httpx.Client
    auth: Authenticator


class Transport:
    """Creates and caches one :class:`Endpoint` per registry and purpose."""

    def __init__(
        self,
        options: RegistryOptions,
        keychain: Keychain | None = None,
        *,
        http_transport: httpx.BaseTransport | None = None,
        retries: int = 2,
        backoff: float = 1.0,
    ) -> None:
        """``http_transport`` replaces the network (fault-injection tests only).

        ``retries`` and ``backoff`` (seconds, doubled each time) are what every request
        through this transport gets when a fault may pass: ggcr and containerd retry a
        few times too.
        """
        self.options = options
        self._http_transport = http_transport
        self.keychain = keychain or Keychain()
        self.retries = retries
        self.backoff = backoff
        self.network = TrackingBackend()
        self._endpoints: dict[tuple[str, bool], Endpoint] = {}
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self.network.cancelled.is_set()

    def cancel(self) -> None:
        """Stop every transfer in progress and refuse new ones (any thread)."""
        self.network.cancel()

    def pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` (a backoff) unless cancelled meanwhile; True if cancelled."""
        return self.network.cancelled.wait(seconds) if seconds > 0 else self.cancelled

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        self._endpoints.clear()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- policy ---------------------------------------------------------------------------
    def plain_http_allowed(self, registry: str, *, push: bool) -> bool:
        o = self.options
        if is_loopback_registry(registry) or _listed(registry, o.insecure_registries):
            return True
        return o.insecure if push else o.insecure_pull

    def verify_tls(self, registry: str, *, push: bool) -> bool:
        o = self.options
        if o.skip_tls_verify or _listed(registry, o.skip_tls_verify_registries):
            return False
        return not (not push and o.skip_tls_verify_pull)

    def ssl_context(self, registry: str, *, push: bool) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.verify_tls(registry, push=push):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        ca = _lookup(registry, self.options.registry_certificates)
        if ca:
            try:
                context.load_verify_locations(cafile=ca)
            except (OSError, ssl.SSLError) as e:
                raise RegistryError(f"registry {registry}: cannot load CA {ca}: {e}") from e
        pair = _lookup(registry, self.options.registry_client_certs)
        if pair:
            try:
                context.load_cert_chain(pair[0], pair[1])
            except (OSError, ssl.SSLError) as e:
                raise RegistryError(
                    f"registry {registry}: cannot load client certificate {pair[0]}: {e}"
                ) from e
        return context

    # -- endpoints ------------------------------------------------------------------------
    def endpoint(self, registry: str, *, push: bool) -> Endpoint:
        """The endpoint for ``registry`` (host[:port]); pings it the first time."""
        key = (registry, push)
        with self._lock:
            found = self._endpoints.get(key)
        if found is not None:
            return found
        verify = self.ssl_context(registry, push=push)
        http = httpx.Client(
            verify=verify,
            timeout=timeouts(self.options),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": USER_AGENT},
            transport=self._http_transport
            or RegistryHTTPTransport(
                verify=verify,
                request_timeout=self.options.request_timeout or None,
                backend=self.network,
            ),
        )
        self._clients.append(http)
        endpoint = self._probe(registry, http, push=push)
        with self._lock:
            self._endpoints.setdefault(key, endpoint)
            return self._endpoints[key]

    def _probe(self, registry: str, http: httpx.Client, *, push: bool) -> Endpoint:
        attempt = 0
        while True:
            try:
                return self._probe_once(registry, http, push=push)
            except _PingFailed as failed:
                if not failed.transient or attempt >= self.retries or self.cancelled:
                    raise RegistryError(str(failed)) from None
                attempt += 1
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning("%s; retrying in %.1fs (%d/%d)", failed, delay, attempt, self.retries)
                if self.pause(delay):
                    raise RegistryError(f"registry {registry}: cancelled") from None

    def _probe_once(self, registry: str, http: httpx.Client, *, push: bool) -> Endpoint:
        schemes = ["https"]
        if self.plain_http_allowed(registry, push=push):
            schemes.append("http")
        first_error: Exception | None = None
        for scheme in schemes:
            base = f"{scheme}://{registry}"
            try:
                response = http.get(f"{base}/v2/")
            except (httpx.HTTPError, httpx.InvalidURL) as e:
                first_error = first_error or e
                log.debug("registry %s: %s ping failed: %s", registry, scheme, reason(e))
                continue
            if first_error is not None and response.status_code == 400:
                # a TLS server answering plain HTTP: the HTTPS failure is the real story
                log.debug("registry %s: plain HTTP refused: %s", registry, response.text[:80])
                break
            if is_temporary_status(response.status_code):
                raise _PingFailed(
                    f"registry {registry}: ping /v2/ answered HTTP {response.status_code}",
                    transient=True,
                )
            auth = Authenticator(registry, base, http, self.keychain.resolve(registry))
            auth.learn(response)
            return Endpoint(registry, base, http, auth)
        assert first_error is not None
        hint = ""
        if isinstance(first_error, httpx.ConnectError) and "CERTIFICATE" in str(first_error):
            hint = " (use --registry-certificate or --skip-tls-verify-registry)"
        raise _PingFailed(
            f"registry {registry}: unreachable: {reason(first_error)}{hint}",
            transient=is_transient(first_error),
        )


class _PingFailed(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def _listed(registry: str, registries: tuple[str, ...]) -> bool:
    host = normalize_key(registry)
    return any(normalize_key(r) == host for r in registries)


def _lookup(registry: str, table: Mapping[str, T]) -> T | None:
    host = normalize_key(registry)
    for key, value in table.items():
        if normalize_key(key) == host:
            return value
    return None
