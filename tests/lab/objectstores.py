"""Object stores on loopback for the context tests: S3 (moto), GCS and Azure Blob emulators.

- S3: ``moto``'s server mode (PyPI), with IAM authentication enforced after the first
  requests (``INITIAL_NO_AUTH_ACTION_COUNT``), so that wrong keys are refused as by S3.
- GCS: ``gcp-storage-emulator`` (PyPI), which serves the Cloud Storage JSON API.
- Azure Blob: Azurite (npm ``azurite``, installed by scripts/install-system-deps.sh), with
  its well-known development account and key.
Each starts on a free port and is stopped by :meth:`Server.stop`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.lab.tools import free_port, require_tool, wait_for_port

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass
class Server:
    """A running emulator: its base URL and process."""

    url: str
    process: subprocess.Popen
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def _start(argv: list[str], directory: Path, port: int, env: dict[str, str] | None = None):
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=directory,
        )
    try:
        wait_for_port("127.0.0.1", port, 60, alive=lambda: process.poll() is None)
    except (RuntimeError, TimeoutError) as e:
        process.kill()
        process.wait()
        raise RuntimeError(f"{argv[0]} did not start: {e}\n{log.read_text()[-2000:]}") from e
    return process, log


def _venv_tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is missing: install the test extra (pip install -e '.[test]')")
    return found


def start_moto(directory: Path, *, auth_after: int | None = None) -> Server:
    """moto in server mode; with ``auth_after``, IAM auth is enforced after that many calls."""
    port = free_port()
    env = {"MOTO_ALLOW_NONEXISTENT_REGION": "true"}
    if auth_after is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(auth_after)
    argv = [_venv_tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    process, log = _start(argv, directory, port, env)
    return Server(f"http://127.0.0.1:{port}", process, log)


def start_gcs(directory: Path) -> Server:
    """gcp-storage-emulator, in memory."""
    port = free_port()
    argv = [
        _venv_tool("gcp-storage-emulator"), "start", "--host=127.0.0.1", f"--port={port}",
        "--in-memory",
    ]  # fmt: skip
    process, log = _start(argv, directory, port)
    return Server(f"http://127.0.0.1:{port}", process, log)


def start_azurite(directory: Path) -> Server:
    """Azurite's blob service, its data under ``directory``."""
    binary = require_tool("azurite-blob")
    port = free_port()
    argv = [
        binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location",
        str(directory / "data"), "--silent", "--skipApiVersionCheck", "--loose",
    ]  # fmt: skip
    process, log = _start(argv, directory, port)
    url = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={url};"
    )
    return Server(url, process, log, {"connection_string": connection})


def s3_user_and_bucket(server: Server, bucket: str, objects: dict[str, bytes]) -> dict[str, str]:
    """On a moto started with ``auth_after=3``: an IAM user allowed ``s3:*`` (3 unsigned
    calls), then ``bucket`` holding ``objects``. Returns the user's keys."""
    import json

    import botocore.session

    session = botocore.session.Session()
    setup = {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    iam = session.create_client("iam", endpoint_url=server.url, region_name="us-east-1", **setup)
    iam.create_user(UserName="builder")
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}  # fmt: skip
    iam.put_user_policy(UserName="builder", PolicyName="s3", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="builder")["AccessKey"]
    s3 = session.create_client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    s3.create_bucket(Bucket=bucket)
    for name, data in objects.items():
        s3.put_object(Bucket=bucket, Key=name, Body=data)
    return {"url": server.url, "id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
