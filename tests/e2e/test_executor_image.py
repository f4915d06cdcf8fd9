"""The executor image: ``deploy/Dockerfile`` built by kaniko, then run with crun.

The ``executor_image`` fixture (tests/conftest.py) builds the image with its builder stage
FROM the lab's Debian and pushes it to the plain registry. These tests read it back with
skopeo and the lab's own layer reader, and run it with crun from a root filesystem that
holds nothing but the image: no shell, no ``/usr``, no ``/lib``. A build inside it uses the
host's network to reach the lab registry on loopback.
"""

from __future__ import annotations

import gzip
import json
import tarfile
from pathlib import Path

import pytest

from kaniko import __version__
from kaniko.executor.executor import build
from kaniko.options import BuildOptions, OutputOptions
from tests.lab.crun import run_image, unpack_bundle
from tests.lab.executor import executor_build_args
from tests.lab.flatten import DIR, FILE, SYMLINK, Tree, fetch, flatten_layers

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SIZE_LIMIT = 90 * 1024 * 1024  # uncompressed bytes
KANIKO_ENV = {
    "HOME": "/root",
    "PATH": "/usr/local/bin:/kaniko",
    "DOCKER_CONFIG": "/kaniko/.docker/",
    "SSL_CERT_DIR": "/kaniko/ssl/certs",
    "SSL_CERT_FILE": "/kaniko/ssl/certs/ca-certificates.crt",
}
# Run inside the image by its own interpreter: import every extension module it ships,
# compile the RUN steps' seccomp policy (libseccomp, opened through ctypes), list the files
# mapped into the process, load the CA bundle, and start the executor with variables that
# would derail an ordinary Python (they must change nothing).
SELF_CHECK = r"""
import importlib, json, os, ssl, subprocess, sys
stdlib, dynload, site = sys.path
names = [n.split(".", 1)[0] for n in os.listdir(dynload) if n.endswith(".so")]
for top, _, files in os.walk(site):
    rel = os.path.relpath(top, site).replace(os.sep, ".")
    prefix = "" if rel == "." else rel + "."
    names += [prefix + n.split(".", 1)[0] for n in files if n.endswith(".so")]
failed = {}
for name in sorted(names):
    if name != "zstandard._cffi":  # the cffi backend needs the cffi package: not a dependency
        try:
            importlib.import_module(name)
        except ImportError as e:
            failed[name] = str(e)
from kaniko.sandbox.seccomp import compile_policy
from kaniko.sandbox.security import DEFAULT_CAPABILITIES
seccomp = len(compile_policy(DEFAULT_CAPABILITIES)) // 8
maps = sorted({line.split()[-1] for line in open("/proc/self/maps") if "/" in line})
cas = ssl.create_default_context().cert_store_stats()["x509_ca"]
hostile = dict(os.environ, PYTHONHOME="/nowhere", PYTHONPATH="/nowhere",
               LD_LIBRARY_PATH="/nowhere", PYTHONSTARTUP="/nowhere")
done = subprocess.run(["/kaniko/executor", "version"], env=hostile, capture_output=True,
                      text=True)
print(json.dumps({"path": sys.path, "isolated": sys.flags.isolated, "imported": len(names),
                  "failed": failed, "maps": maps, "cas": cas, "version": done.stdout,
                  "seccomp": seccomp}))
"""


@pytest.fixture(scope="module")
def pulled(executor_image: str, tmp_path_factory) -> tuple[dict, dict, list[Path], Tree]:
    """(manifest, config, layer files, flattened tree) of the executor image."""
    manifest, config, layers = fetch(executor_image, tmp_path_factory.mktemp("executor"))
    return manifest, config, layers, flatten_layers(layers)


def _ok(done) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_config_has_kanikos_entrypoint_env_and_workdir(pulled) -> None:
    config = pulled[1]["config"]
    assert config["Entrypoint"] == ["/kaniko/executor"]
    assert not config.get("Cmd")
    assert config["WorkingDir"] == "/workspace"
    env = dict(item.split("=", 1) for item in config["Env"])
    assert {k: env.get(k) for k in KANIKO_ENV} == KANIKO_ENV
    assert env["TMPDIR"].startswith("/kaniko/")


def test_tree_holds_only_kaniko_nsswitch_and_workspace(pulled) -> None:
    tree = pulled[3]
    assert {path.split("/")[1] for path in tree} == {"kaniko", "etc", "workspace"}
    assert [p for p in tree if p.startswith("/etc/")] == ["/etc/nsswitch.conf"]
    for absent in ("/bin", "/bin/sh", "/usr", "/lib", "/lib64", "/sbin", "/tmp"):
        assert absent not in tree
    assert tree["/kaniko"].mode == 0o777
    assert tree["/kaniko/tmp"].mode == 0o1777
    assert tree["/kaniko/.docker"].type == DIR
    assert not [p for p in tree if p.startswith("/kaniko/.docker/")]
    bundle = tree["/kaniko/ssl/certs/ca-certificates.crt"]
    assert bundle.type == FILE and bundle.size > 100_000
    for name in ("executor", "warmer"):
        launcher = tree[f"/kaniko/{name}"]
        assert launcher.type == FILE and launcher.mode & 0o111
        assert launcher.data is not None and launcher.data.startswith(b"#!/kaniko/bin/python3\n")
    assert any(p.startswith("/kaniko/lib/ld-linux") for p in tree)
    assert tree["/kaniko/lib/libc.so.6"].type == FILE
    assert tree["/kaniko/bin/python3._pth"].type == FILE


def test_size_is_under_90_mb(pulled, record_property) -> None:
    manifest, _, layers, _ = pulled
    compressed = sum(layer["size"] for layer in manifest["layers"])
    uncompressed = sum(len(gzip.decompress(path.read_bytes())) for path in layers)
    record_property("compressed_bytes", compressed)
    record_property("uncompressed_bytes", uncompressed)
    assert uncompressed < SIZE_LIMIT, f"{uncompressed / 2**20:.1f} MiB uncompressed"
    assert compressed < uncompressed


def test_entrypoint_runs_without_a_shell(executor_image: str) -> None:
    assert _ok(run_image(executor_image, ["/kaniko/executor", "version"])).strip() == (
        f"Kaniko version : {__version__}"
    )
    assert _ok(run_image(executor_image, ["/kaniko/executor", "--help"])).startswith(
        "usage: executor"
    )
    assert _ok(run_image(executor_image, ["/kaniko/warmer", "--help"])).startswith("usage: warmer")
    bare = run_image(executor_image)  # the ENTRYPOINT alone
    assert bare.returncode == 2
    assert bare.stderr.strip() == "error: you must provide --destination, or use --no-push"


def test_interpreter_needs_nothing_outside_kaniko(executor_image: str) -> None:
    argv = ["/kaniko/bin/python3", "-c", SELF_CHECK]
    report = json.loads(_ok(run_image(executor_image, argv)).strip().splitlines()[-1])
    assert report["path"] == [
        "/kaniko/lib/python3.11",
        "/kaniko/lib/python3.11/lib-dynload",
        "/kaniko/lib/python3.11/site-packages",
    ]
    assert report["isolated"] == 1
    assert report["failed"] == {}
    assert report["imported"] > 30
    assert report["maps"] and all(path.startswith("/kaniko/") for path in report["maps"])
    assert "/kaniko/lib/libseccomp.so.2" in report["maps"]
    assert report["seccomp"] > 100  # BPF instructions of the default policy
    assert report["cas"] > 50
    assert report["version"].strip() == f"Kaniko version : {__version__}"


def test_builds_a_dockerfile_inside_the_image(executor_image, base_images, tmp_path) -> None:
    context, out = tmp_path / "context", tmp_path / "out"
    context.mkdir()
    out.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {base_images['busybox']}\n"
        'ENV GREETING="built inside the executor image"\n'
        "LABEL org.example.built-in=executor-image\n"
        'CMD ["sh", "-c", "echo $GREETING"]\n'
    )
    argv = [
        "/kaniko/executor", "--context=/workspace", "--dockerfile=/workspace/Dockerfile",
        "--no-push", "--isolation=chroot", "--tar-path=/out/image.tar",
        "--digest-file=/out/digest",
    ]  # fmt: skip
    done = run_image(
        executor_image, argv, binds=[(context, "/workspace"), (out, "/out")], timeout=120
    )
    assert "Built image sha256:" in _ok(done) + done.stderr
    assert (out / "digest").read_text().startswith("sha256:")
    with tarfile.open(out / "image.tar") as tar:
        (entry,) = json.load(tar.extractfile("manifest.json"))
        config = json.load(tar.extractfile(entry["Config"]))["config"]
    assert "GREETING=built inside the executor image" in config["Env"]
    assert config["Labels"] == {"org.example.built-in": "executor-image"}
    assert config["Cmd"] == ["sh", "-c", "echo $GREETING"]
    assert len(entry["Layers"]) == 1  # the busybox base layer only


@pytest.fixture(scope="module")
def debug_image(registry_plain, debian_image: str) -> str:
    """The ``debug`` target, built the way the ``executor_image`` fixture builds the image."""
    reference = f"{registry_plain.host}/kaniko/executor:debug"
    build(
        BuildOptions(
            dockerfile=str(REPO / "deploy" / "Dockerfile"),
            context=str(REPO),
            target="debug",
            build_args=executor_build_args(debian_image),
            output=OutputOptions(destinations=(reference,)),
        )
    )
    return reference


def test_debug_target_adds_busybox(debug_image: str, tmp_path) -> None:
    _, config, layers = fetch(debug_image, tmp_path / "image")
    tree = flatten_layers(layers)
    assert tree["/busybox/busybox"].type == FILE
    assert tree["/busybox/sh"].type == SYMLINK
    assert tree["/busybox/sh"].linkname == "/busybox/busybox"
    assert "/bin" not in tree and "/usr" not in tree
    settings = config["config"]
    assert settings["Entrypoint"] == ["/kaniko/executor"]
    assert "PATH=/usr/local/bin:/kaniko:/busybox" in settings["Env"]
    assert settings["Volumes"] == {"/busybox": {}}
    # umoci turns each VOLUME into an empty tmpfs; a runtime that fills a new volume from
    # the image (as Docker does) shows the image's /busybox there, so bind exactly that.
    (tmp_path / "unpacked").mkdir()
    bundle = unpack_bundle(debug_image, tmp_path / "unpacked")
    done = run_image(
        debug_image,
        ["/busybox/sh", "-c", "executor version && ls /"],
        binds=[(bundle / "rootfs" / "busybox", "/busybox")],
    )
    version, *listing = _ok(done).splitlines()
    assert version == f"Kaniko version : {__version__}"
    assert {"busybox", "etc", "kaniko", "workspace"} <= set(listing)
    assert not {"bin", "usr", "lib"} & set(listing)
