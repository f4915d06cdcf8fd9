"""The CNCF distribution registry (Debian's `docker-registry`) on a free loopback port.

Three variants: plain HTTP; HTTPS with a test CA and htpasswd Basic auth; HTTPS with
Bearer-token auth served by :class:`tests.lab.tokens.TokenService`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt

from tests.lab.pki import TestCA
from tests.lab.tokens import TokenService
from tests.lab.tools import free_port, require_tool, wait_for_port


@dataclass
class Registry:
    """A running registry: where it is, how to trust it and how to log in."""

    host: str  # "127.0.0.1:PORT"
    scheme: str  # "http" or "https"
    directory: Path
    ca_cert: Path | None = None
    users: dict[str, str] = field(default_factory=dict)  # username -> password
    token_service: TokenService | None = None
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def docker_config(self, directory: Path, username: str) -> Path:
        """Write a docker config.json holding ``username``'s credentials; return its dir."""
        directory.mkdir(parents=True, exist_ok=True)
        auth = base64.b64encode(f"{username}:{self.users[username]}".encode()).decode()
        (directory / "config.json").write_text(json.dumps({"auths": {self.host: {"auth": auth}}}))
        return directory

    def log(self) -> str:
        path = self.directory / "registry.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.token_service is not None:
            self.token_service.stop()


def _config(
    directory: Path,
    port: int,
    tls: tuple[Path, Path] | None,
    auth: dict | None,
    client_ca: Path | None = None,
) -> str:
    http: dict = {"addr": f"127.0.0.1:{port}", "secret": "lab-secret", "headers": {}}
    if tls:
        http["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
        if client_ca is not None:  # mutual TLS: clients must show a cert of this CA
            http["tls"]["clientcas"] = [str(client_ca)]
    config: dict = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(directory / "data")},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": http,
    }
    if auth:
        config["auth"] = auth
    # YAML is a superset of JSON: the registry reads this as its YAML config.
    return json.dumps(config, indent=2)


def start_registry(
    directory: Path,
    *,
    tls_ca: TestCA | None = None,
    htpasswd_users: dict[str, str] | None = None,
    token_service: TokenService | None = None,
    users: dict[str, str] | None = None,
    require_client_cert: bool = False,
    dns_names: tuple[str, ...] = (),
    realm: str | None = None,
) -> Registry:
    """Start a registry process; stop it with ``Registry.stop()``.

    ``dns_names`` go into its TLS certificate besides the loopback names; ``realm``
    replaces the token service's own URL in the Bearer challenge (a token endpoint served
    elsewhere, as ACR serves its own ``/oauth2/token``)."""
    binary = require_tool("docker-registry")
    directory.mkdir(parents=True, exist_ok=True)
    tls = None
    if tls_ca is not None:
        files = tls_ca.issue(f"registry-{directory.name}", dns_names=dns_names)
        tls = (files.cert, files.key)
    auth = None
    if htpasswd_users:
        lines = [
            f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=5)).decode()}"
            for u, p in htpasswd_users.items()
        ]
        (directory / "htpasswd").write_text("\n".join(lines) + "\n")
        auth = {"htpasswd": {"realm": "kaniko-lab", "path": str(directory / "htpasswd")}}
    if token_service is not None:
        realm = realm or token_service.start()
        auth = {
            "token": {
                "realm": realm,
                "service": token_service.service,
                "issuer": token_service.issuer,
                "rootcertbundle": str(token_service.bundle),
            }
        }
    for _attempt in range(5):
        port = free_port()
        client_ca = tls_ca.cert_path if (tls_ca and require_client_cert) else None
        (directory / "config.yml").write_text(_config(directory, port, tls, auth, client_ca))
        log = open(directory / "registry.log", "wb")  # noqa: SIM115 - owned by the process
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        process = subprocess.Popen(
            [binary, "serve", str(directory / "config.yml")],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        log.close()
        try:
            wait_for_port("127.0.0.1", port, 20, alive=lambda p=process: p.poll() is None)
        except (RuntimeError, TimeoutError):
            process.kill()
            process.wait()
            continue  # the port was taken meanwhile: try another
        return Registry(
            host=f"127.0.0.1:{port}",
            scheme="https" if tls else "http",
            directory=directory,
            ca_cert=tls_ca.cert_path if tls_ca else None,
            users=dict(users or htpasswd_users or {}),
            token_service=token_service,
            process=process,
        )
    log_text = (directory / "registry.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"docker-registry did not start:\n{log_text}")


def remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
