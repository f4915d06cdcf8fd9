"""RUN --mount in place, in a default pod (no mount capability), against the host's chroot build.

The same Dockerfile (bind of the context and of a stage, cache, tmpfs, secret as a file and
as a variable) is built with ``--reproducible`` on the host (chroot isolation, in-process)
and by the executor image in a pod (in place: mounts are placed by rename, link and write,
and taken away after the step). Both images must be the same, layer by layer, down to the
digest; the secret's value is in no blob of the pod's image and nowhere in its log; the
cache, kept in a writable pod volume (``--cache-mount-dir``), holds what the steps wrote.

A second build in the pod fails in the step that uses a secret whose target lies in a
writable volume: the host then sees that the secret file and the directories made for it
were removed although the step failed. (SIGKILL in the middle of a placed step is
tests/sandbox/test_placement.py::test_a_killed_build_is_undone_by_the_next_claim.)
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest

from kaniko.executor.executor import build
from kaniko.options import BuildOptions, OutputOptions, RunOptions, SecretSource
from tests.e2e.pod.conftest import PodImage
from tests.e2e.pod.runtime import Volume, run_pod
from tests.lab.flatten import compare_trees, fetch, flatten_layers
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e

SECRET = "pod-s3cr3t-Vb7q"
DOCKERFILE = """\
FROM {base} AS stage
RUN mkdir /built && echo from-stage > /built/s.txt

FROM {base}
RUN mkdir -p /data && echo image > /data/keep.txt
RUN --mount=type=secret,id=token cat /run/secrets/token && wc -c < /run/secrets/token > /len \\
    && stat -c '%a %u' /run/secrets/token > /perm
RUN --mount=type=secret,id=token,env=TOKEN,target=/etc/app/token,uid=1000,mode=0440 \\
    echo "token $TOKEN" && stat -c '%a %u' /etc/app/token > /perm2
RUN --mount=type=cache,target=/var/cache/app,id=app echo cached > /var/cache/app/c
RUN --mount=type=cache,target=/other,id=app,sharing=locked cat /other/c > /cache-seen
RUN --mount=type=bind,target=/ctx cat /ctx/hello.txt > /hello && ls -A /ctx > /ctx-listing
RUN --mount=type=bind,source=dir,target=/rw,rw echo w > /rw/new && cat /rw/new > /rw-seen
RUN --mount=type=bind,from=stage,source=/built,target=/from-stage cat /from-stage/s.txt > /stage
RUN --mount=type=tmpfs,target=/data ls -A /data > /tmpfs-listing; echo x > /data/scratch
RUN --mount=type=tmpfs,target=/deep/t echo x > /deep/t/x && cat /deep/t/x > /t-seen
"""
EXPECTED = {
    "/len": b"15\n",
    "/perm": b"400 0\n",
    "/perm2": b"440 1000\n",
    "/cache-seen": b"cached\n",
    "/hello": b"hello\n",
    "/ctx-listing": b".dockerignore\nDockerfile\ndir\nhello.txt\n",
    "/rw-seen": b"w\n",
    "/stage": b"from-stage\n",
    "/tmpfs-listing": b"",
    "/data/keep.txt": b"image\n",
    "/t-seen": b"x\n",
}


def _context(directory: Path, base: str) -> Path:
    context = directory / "context"
    (context / "dir").mkdir(parents=True)
    (context / "dir" / "in.txt").write_text("in\n")
    (context / "hello.txt").write_text("hello\n")
    (context / "ignored.txt").write_text("ignored\n")
    (context / ".dockerignore").write_text("ignored.txt\n")
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=base))
    return context


def _blobs(ref: str) -> tuple[list[bytes], dict[str, bytes]]:
    """The layers of ``ref`` decompressed, and every blob (manifest, config, layers)."""
    with tempfile.TemporaryDirectory(prefix="kaniko-blobs-") as tmp:
        manifest, _, layers = fetch(ref, Path(tmp) / "image")
        config = manifest["config"]["digest"].split(":", 1)[1]
        found = {
            "manifest": (Path(tmp) / "image" / "manifest.json").read_bytes(),
            "config": (Path(tmp) / "image" / config).read_bytes(),
        }
        data = [gzip.decompress(layer.read_bytes()) for layer in layers]
        found.update({f"layer {n}": blob for n, blob in enumerate(data)})
        return data, found


def _layers(ref: str) -> list:
    with tempfile.TemporaryDirectory(prefix="kaniko-layers-") as tmp:
        _, _, files = fetch(ref, Path(tmp) / "image")
        return [flatten_layers([f]) for f in files] + [flatten_layers(files)]


def test_run_mounts_in_place_in_a_pod_match_the_chroot_build(
    pod_image: PodImage, registry_plain: Registry, base_images: dict[str, str], tmp_path: Path
) -> None:
    context = _context(tmp_path, base_images["busybox"])
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "token").write_text(SECRET)
    host_ref = f"{registry_plain.host}/mounts/host:latest"
    build(
        BuildOptions(
            dockerfile=str(context / "Dockerfile"),
            context=str(context),
            kaniko_dir=str(tmp_path / "kaniko"),
            output=OutputOptions(destinations=(host_ref,), reproducible=True),
            run=RunOptions(secrets=(SecretSource("token", str(secrets / "token")),)),
        )
    )
    cache = tmp_path / "pod-cache"
    cache.mkdir(mode=0o777)
    argv = [
        "/kaniko/executor",
        "--context=/workspace",
        "--reproducible",
        f"--insecure-registry={registry_plain.host}",
        f"--destination={registry_plain.host}/mounts/pod:latest",
        "--secret=id=token,src=/secrets/token",
        "--cache-mount-dir=/cache",
    ]
    volumes = [
        Volume(context, "/workspace"),
        Volume(secrets, "/secrets"),
        Volume(cache, "/cache", writable=True),
    ]
    done = run_pod(pod_image.ref, argv, volumes)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}\n{log[-4000:]}"
    assert "Building in place" in log
    assert SECRET not in log and "token ***" in log  # printed twice, masked both times
    pod_ref = f"{registry_plain.host}/mounts/pod:latest"

    ours, theirs = _layers(pod_ref), _layers(host_ref)
    assert len(ours) == len(theirs)
    problems = []
    for index, (mine, host) in enumerate(zip(ours, theirs, strict=True)):
        found = compare_trees(mine, host, labels=("pod", "host"))
        problems += [f"layer {index}: {line}" for line in found]
    assert problems == []
    flat = ours[-1]
    for path, data in EXPECTED.items():
        assert flat[path].data == data, path
    for gone in ("/run", "/etc/app", "/var/cache", "/other", "/ctx", "/rw", "/from-stage",
                 "/deep", "/data/scratch", "/workspace", "/cache", "/secrets"):  # fmt: skip
        assert gone not in flat, gone
    _, blobs = _blobs(pod_ref)
    for name, blob in blobs.items():
        assert SECRET.encode() not in blob, name
    assert blobs["manifest"] == _blobs(host_ref)[1]["manifest"]  # the same digest
    (kept,) = cache.glob("*/0/data/c")
    assert kept.read_text() == "cached\n"


def test_a_failed_step_in_place_leaves_no_secret(
    pod_image: PodImage, base_images: dict[str, str], tmp_path: Path, registry_plain: Registry
) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {base_images['busybox']}\n"
        "RUN --mount=type=secret,id=token,target=/out/made/for/it/token "
        "--mount=type=cache,target=/out/cache "
        "cat /out/made/for/it/token > /dev/null && ls /out > /out/seen && false\n"
    )
    secrets, out = tmp_path / "secrets", tmp_path / "out"
    secrets.mkdir()
    out.mkdir(mode=0o777)
    (secrets / "token").write_text(SECRET)
    argv = [
        "/kaniko/executor",
        "--context=/workspace",
        "--no-push",
        f"--insecure-registry={registry_plain.host}",
        "--secret=id=token,src=/secrets/token",
    ]
    volumes = [
        Volume(context, "/workspace"),
        Volume(secrets, "/secrets"),
        Volume(out, "/out", writable=True),
    ]
    done = run_pod(pod_image.ref, argv, volumes)
    log = done.stdout + done.stderr
    assert done.returncode == 1, f"exit {done.returncode}\n{log[-4000:]}"
    assert "Building in place" in log and SECRET not in log
    assert sorted(p.name for p in out.iterdir()) == ["seen"]  # no token, no made/, no cache
    assert (out / "seen").read_text() == "cache\nmade\nseen\n"  # the step saw both
