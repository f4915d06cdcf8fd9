"""Registry faults end to end: the real lab registry behind a proxy that misbehaves.

Each case builds with the real command line through :class:`tests.lab.faultproxy.FaultProxy`
and checks what a user sees: a single reset connection, a truncated layer or one 503 on
``GET /v2/`` do not fail the build (retried, the layer resumed with a range request); a
registry that stops answering fails within the read timeout, with one line naming the
registry; SIGTERM during a stalled upload ends the build within 2 s, nothing left.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kaniko.cli.main import main
from tests.lab.faultproxy import FaultProxy, Rule
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e


def _layer_get(layer: bytes) -> str:
    return rf"^/v2/library/busybox/blobs/sha256:{hashlib.sha256(layer).hexdigest()}"


@pytest.fixture
def proxy(registry_plain: Registry) -> Iterator[FaultProxy]:
    with FaultProxy(registry_plain.host) as running:
        yield running


def _build(tmp_path: Path, dockerfile: str, dest: str, *extra: str) -> tuple[int, list[str], Path]:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    kaniko_dir = tmp_path / "kaniko"
    argv = ["--context", f"dir://{ctx}", "--destination", dest, "--kaniko-dir", str(kaniko_dir),
            "--verbosity", "warning", "--log-format", "text", *extra]  # fmt: skip
    return main(argv), [], kaniko_dir


def _manifest_exists(registry: Registry, repo: str, tag: str) -> bool:
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    url = f"{registry.url}/v2/{repo}/manifests/{tag}"
    return httpx.head(url, headers={"Accept": accept}, timeout=30).status_code == 200


@pytest.mark.parametrize("action", ["reset", "truncate"])
def test_a_layer_download_cut_once_is_resumed(
    action: str,
    tmp_path: Path,
    proxy: FaultProxy,
    registry_plain: Registry,
    base_images: dict[str, str],
    busybox_layer: bytes,
) -> None:
    rule = proxy.add(Rule("GET", _layer_get(busybox_layer), action, after=100_000))
    base = f"{proxy.host}/library/busybox:latest"
    code, _, kaniko_dir = _build(
        tmp_path, f"FROM {base}\nRUN echo ok > /ok\n", f"{registry_plain.host}/faults/{action}:1"
    )
    assert code == 0
    assert rule.hit.is_set()
    ranged = [line for line in proxy.log if line.startswith("GET /v2/library/busybox/blobs/")]
    assert len(ranged) >= 2  # the cut request, then the resumed one
    assert _manifest_exists(registry_plain, f"faults/{action}", "1")
    assert list((kaniko_dir / "builds").iterdir()) == []


def test_one_503_on_the_ping_is_retried(
    tmp_path: Path, proxy: FaultProxy, registry_plain: Registry, base_images
) -> None:
    rule = proxy.add(Rule("GET", r"^/v2/$", "status", status=503))
    base = f"{proxy.host}/library/busybox:latest"
    code, _, _ = _build(tmp_path, f"FROM {base}\nENV A=1\n", f"{registry_plain.host}/faults/ping:1")
    assert code == 0 and rule.hit.is_set()


def test_a_registry_that_stops_answering_fails_within_the_read_timeout(
    tmp_path: Path,
    proxy: FaultProxy,
    registry_plain: Registry,
    base_images,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proxy.add(Rule("GET", r"/manifests/", "stall", times=10))
    base = f"{proxy.host}/library/busybox:latest"
    start = time.monotonic()
    code, _, kaniko_dir = _build(
        tmp_path,
        f"FROM {base}\nRUN true\n",
        f"{registry_plain.host}/faults/stall:1",
        "--registry-read-timeout",
        "1s",
    )
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1
    assert len(errors) == 1 and errors[0].endswith(
        f"Dockerfile:1: FROM {base}: registry {proxy.host}: library/busybox:latest: "
        "no answer in time (--registry-read-timeout)"
    ), err
    assert elapsed < 30  # 3 tries of 1 s and backoff, not 3 x 300 s
    assert not (kaniko_dir / "builds").exists() or list((kaniko_dir / "builds").iterdir()) == []


def test_sigterm_during_a_stalled_upload_exits_within_two_seconds(
    tmp_path: Path, proxy: FaultProxy, base_images
) -> None:
    stalled = proxy.add(Rule("PUT", r"/blobs/uploads/", "stall", times=100))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "big.bin").write_bytes(bytes(range(256)) * 40_000)  # a 10 MB layer to upload
    (ctx / "Dockerfile").write_text(f"FROM {base_images['busybox']}\nCOPY big.bin /big.bin\n")
    kaniko_dir = tmp_path / "kaniko"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kaniko.cli", "-c", str(ctx), "-d", f"{proxy.host}/faults/term:1",
         "--kaniko-dir", str(kaniko_dir), "--log-format", "text", "--verbosity", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert stalled.hit.wait(120), "the upload never reached the proxy"
        time.sleep(0.5)  # the upload thread is now blocked on its socket
        signalled = time.monotonic()
        proc.terminate()
        output, _ = proc.communicate(timeout=60)
        elapsed = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert errors == ["error: terminated"], output
    print(f"SIGTERM to exit: {elapsed:.2f}s")
    assert elapsed < 2.0, f"took {elapsed:.2f}s to exit after SIGTERM"
    assert list((kaniko_dir / "builds").iterdir()) == []
