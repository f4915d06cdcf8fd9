"""The layer cache end to end, against the lab's registries.

Every build here is ``--reproducible`` unless a test says otherwise, so a rebuild served
by the cache must have the digest of a build without cache of the same inputs: byte for
byte the same image. What a rebuild did is read from its log: which entries it used,
whether it extracted an image (``Unpacking rootfs``), whether a RUN ran (its output).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import ssl
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from kaniko.cache import layercache
from kaniko.executor.executor import build
from kaniko.options import BuildOptions, CacheOptions, OutputOptions, RegistryOptions
from tests.lab.flatten import flatten
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e

MARK = "RAN-THE-RUN"  # what the RUN steps print: seen in the log only when one runs


class Builder:
    """Builds one context with ``--cache`` and remembers each build's log."""

    def __init__(self, tmp: Path, caplog: pytest.LogCaptureFixture, dest: str) -> None:
        self.ctx = tmp / "ctx"
        self.ctx.mkdir()
        self.kaniko_dir = tmp / "kaniko"
        self.dest = dest
        self.caplog = caplog
        self.log = ""

    def write(self, name: str, text: str, mode: int | None = None) -> Path:
        path = self.ctx / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def build(
        self,
        *,
        cache: bool = True,
        reproducible: bool = True,
        registry: RegistryOptions | None = None,
        build_args: tuple[tuple[str, str | None], ...] = (),
        no_push: bool = False,
        jobs: int = 0,
        **cache_options: object,
    ) -> str:
        self.caplog.clear()
        self.caplog.set_level(logging.INFO, "kaniko")
        options = BuildOptions(
            dockerfile=str(self.ctx / "Dockerfile"),
            context=str(self.ctx),
            kaniko_dir=str(self.kaniko_dir),
            build_args=build_args,
            jobs=jobs,
            registry=registry or RegistryOptions(),
            output=OutputOptions(
                destinations=(self.dest,), reproducible=reproducible, no_push=no_push
            ),
            cache=CacheOptions(enabled=cache, **cache_options),  # type: ignore[arg-type]
        )
        digest = str(build(options).digest)
        self.log = self.caplog.text
        return digest

    @property
    def hits(self) -> int:
        return self.log.count("Using cached layer")

    @property
    def extracted(self) -> bool:
        return "Unpacking rootfs" in self.log

    @property
    def ran(self) -> int:
        """How many RUN steps printed the mark (``[stage:line] RAN-THE-RUN``)."""
        return self.log.count(f"] {MARK}")


@pytest.fixture
def oci_cache(tmp_path: Path) -> str:
    return f"oci:{tmp_path / 'cache' / 'layers'}"


def _tags(registry: Registry, repo: str, auth: tuple[str, str] | None = None) -> list[str]:
    verify = ssl.create_default_context(cafile=str(registry.ca_cert)) if registry.ca_cert else True
    with httpx.Client(verify=verify) as client:
        response = client.get(f"{registry.url}/v2/{repo}/tags/list", auth=auth)
        if response.status_code == 401 and auth is not None:
            token = _token(client, response, auth, repo)
            response = client.get(
                f"{registry.url}/v2/{repo}/tags/list",
                headers={"Authorization": f"Bearer {token}"},
            )
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return sorted(response.json().get("tags") or [])


def _token(client: httpx.Client, challenge: httpx.Response, auth, repo: str) -> str:
    header = challenge.headers["WWW-Authenticate"].removeprefix("Bearer ")
    fields = dict(part.split("=", 1) for part in header.split(","))
    params = {k: v.strip('"') for k, v in fields.items() if k in ("service",)}
    params["scope"] = f"repository:{repo}:pull"
    response = client.get(fields["realm"].strip('"'), params=params, auth=auth)
    response.raise_for_status()
    return str(response.json()["token"])


def _flat(ref: str) -> dict[str, bytes | None]:
    return {path: entry.data for path, entry in flatten(ref).items()}


STAGED = """\
FROM {base}
COPY early.txt /opt/early.txt
RUN echo {mark} && cat /opt/early.txt > /opt/from-run && mkdir -p /app && rm /etc/group
COPY late/ /app/
CMD ["cat", "/app/main.txt"]
"""


def test_a_rebuild_uses_the_cache_and_equals_a_build_without_it(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, oci_cache: str
) -> None:
    dest = f"{registry_plain.host}/cache-e2e/staged:1"
    b = Builder(tmp_path, caplog, dest)
    b.write("Dockerfile", STAGED.format(base=base_images["busybox"], mark=MARK))
    b.write("early.txt", "early\n")
    b.write("late/main.txt", "late\n")
    uncached = b.build(cache=False)
    assert b.build(repo=oci_cache) == uncached  # cold: fills the cache
    assert b.ran == 1 and b.hits == 0
    assert b.build(repo=oci_cache) == uncached  # warm: nothing ran, nothing extracted
    assert (b.ran, b.hits, b.extracted) == (0, 1, False)
    flat = _flat(dest)
    assert flat["/opt/from-run"] == b"early\n"
    assert "/etc/group" not in flat  # the deletion the cached layer holds stays one
    assert "/etc/passwd" in flat

    b.write("late/main.txt", "late, changed\n")  # after the RUN: the RUN still hits
    changed = b.build(repo=oci_cache)
    assert (b.ran, b.hits, b.extracted) == (0, 1, False)
    assert changed == b.build(cache=False)
    assert _flat(dest)["/app/main.txt"] == b"late, changed\n"

    b.write("early.txt", "early, changed\n")  # before the RUN: it runs again
    b.build(repo=oci_cache)
    assert b.ran == 1
    assert _flat(dest)["/opt/from-run"] == b"early, changed\n"


def test_cached_copy_layers_and_a_miss_in_the_middle(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, oci_cache: str
) -> None:
    """A miss does not stop the look-ups of the steps after it (oss#703)."""
    dest = f"{registry_plain.host}/cache-e2e/middle:1"
    b = Builder(tmp_path, caplog, dest)
    text = "FROM {base}\nRUN echo {mark} && echo one > /one\nCOPY mid.txt /mid.txt\n"
    text += "RUN echo {mark} && echo two > /two\nCOPY late.txt /late.txt\n"
    b.write("Dockerfile", text.format(base=base_images["busybox"], mark=MARK))
    b.write("mid.txt", "mid\n")
    b.write("late.txt", "late\n")
    b.build(repo=oci_cache, copy_layers=True)
    assert b.ran == 2
    b.write("late.txt", "late 2\n")
    b.build(repo=oci_cache, copy_layers=True)
    assert (b.hits, b.ran, b.extracted) == (3, 0, False)  # RUN, COPY, RUN hit; last COPY built
    assert _flat(dest)["/late.txt"] == b"late 2\n"


ARGS = """\
FROM {base}
ARG VERSION=1
ENV MODE=fast
LABEL build={label}
RUN echo {mark} && echo "$VERSION $MODE" > /settings
COPY data.txt /data.txt
"""


def test_arg_env_and_label_changes(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, oci_cache: str
) -> None:
    dest = f"{registry_plain.host}/cache-e2e/args:1"
    b = Builder(tmp_path, caplog, dest)
    b.write("data.txt", "data\n")

    def dockerfile(mode: str = "fast", label: str = "a") -> None:
        text = ARGS.format(base=base_images["busybox"], mark=MARK, label=label)
        b.write("Dockerfile", text.replace("MODE=fast", f"MODE={mode}"))

    dockerfile()
    b.build(repo=oci_cache, copy_layers=True)
    assert b.ran == 1
    dockerfile(label="b")  # metadata the RUN cannot see: still a hit
    b.build(repo=oci_cache, copy_layers=True)
    assert (b.ran, b.hits) == (0, 2)
    b.build(repo=oci_cache, copy_layers=True, build_args=(("VERSION", "2"),))
    assert b.ran == 1 and _flat(dest)["/settings"] == b"2 fast\n"
    dockerfile(mode="slow", label="b")
    b.build(repo=oci_cache, copy_layers=True, build_args=(("VERSION", "2"),))
    assert b.ran == 1 and _flat(dest)["/settings"] == b"2 slow\n"
    b.build(repo=oci_cache, copy_layers=True, build_args=(("VERSION", "2"),))
    assert (b.ran, b.hits) == (0, 2)
    b.build(repo=oci_cache, copy_layers=True)  # back to the default VERSION: runs
    assert b.ran == 1 and _flat(dest)["/settings"] == b"1 slow\n"
    b.build(repo=oci_cache, copy_layers=True, build_args=(("UNDECLARED", "x"),))
    assert (b.ran, b.hits) == (0, 2)  # an ARG no step declares is in no key


def test_context_changes_that_reach_the_layer(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, oci_cache: str
) -> None:
    """.dockerignore, a mode-only change and an owner-only change of a source file."""
    dest = f"{registry_plain.host}/cache-e2e/ctx:1"
    b = Builder(tmp_path, caplog, dest)
    b.write("Dockerfile", f"FROM {base_images['busybox']}\nCOPY . /ctx/\n")
    b.write(".dockerignore", "secret.txt\nDockerfile\n.dockerignore\n")
    script = b.write("tool.sh", "#!/bin/sh\n", mode=0o644)
    b.write("secret.txt", "not for the image\n")

    def copy_hit() -> bool:
        b.build(repo=oci_cache, copy_layers=True)
        return b.hits == 1

    assert not copy_hit()
    assert copy_hit()
    os.chown(script, 4321, 4321)  # owner only: COPY writes 0:0 anyway
    assert copy_hit()
    assert flatten(dest)["/ctx/tool.sh"].uid == 0
    os.chmod(script, 0o755)  # mode only
    assert not copy_hit()
    assert flatten(dest)["/ctx/tool.sh"].mode & 0o777 == 0o755
    b.write(".dockerignore", "Dockerfile\n.dockerignore\n")  # secret.txt now copied
    assert not copy_hit()
    assert "/ctx/secret.txt" in _flat(dest)
    b.write(".dockerignore", "Dockerfile\n.dockerignore\nunrelated-*\n")  # nothing more
    assert copy_hit()


MULTI = """\
FROM {base} AS tools
COPY src.txt /src.txt
RUN echo {mark} && tr a-z A-Z < /src.txt > /out.txt

FROM {base}
COPY --from=tools /out.txt /final.txt
RUN echo {mark} && cat /final.txt > /final-copy.txt
"""


def test_copy_from_a_changed_stage_is_never_stale(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, oci_cache: str
) -> None:
    dest = f"{registry_plain.host}/cache-e2e/multi:1"
    b = Builder(tmp_path, caplog, dest)
    b.write("Dockerfile", MULTI.format(base=base_images["busybox"], mark=MARK))
    b.write("src.txt", "first\n")
    first = b.build(repo=oci_cache, copy_layers=True)
    assert b.ran == 2
    assert b.build(repo=oci_cache, copy_layers=True) == first
    assert (b.ran, b.hits) == (0, 4)  # the tools stage was not built for COPY --from
    b.write("src.txt", "second\n")
    b.build(repo=oci_cache, copy_layers=True)
    assert b.ran == 2  # the changed stage, and the step after its copy
    flat = _flat(dest)
    assert flat["/final.txt"] == b"SECOND\n" and flat["/final-copy.txt"] == b"SECOND\n"


def test_ttl_deleted_and_corrupt_entries_are_rebuilt(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, monkeypatch
) -> None:
    """A registry cache: an expired entry (a clock two weeks on), an entry deleted behind
    the cache's back, a blob whose bytes changed in the registry's storage: each one a
    warning and a rebuild, never a failed build."""
    dest = f"{registry_plain.host}/cache-e2e/faults:1"
    repo = f"{registry_plain.host}/cache-e2e/faults-cache"
    b = Builder(tmp_path, caplog, dest)
    text = "FROM {base}\nRUN echo {mark} && date +%s%N > /stamp\n"
    b.write("Dockerfile", text.format(base=base_images["busybox"], mark=MARK))
    b.build(repo=repo, reproducible=False)
    [key] = _tags(registry_plain, "cache-e2e/faults-cache")

    real_now = layercache.utc_now
    monkeypatch.setattr(layercache, "utc_now", lambda: real_now() + timedelta(days=15))
    b.build(repo=repo, reproducible=False)
    assert b.ran == 1 and "expired" in b.log
    monkeypatch.setattr(layercache, "utc_now", real_now)
    b.build(repo=repo, reproducible=False)
    assert b.ran == 0  # the rebuilt entry replaced the expired one

    with httpx.Client() as client:  # deleted behind the cache's back
        url = f"{registry_plain.url}/v2/cache-e2e/faults-cache/manifests/{key}"
        digest = client.head(
            url, headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
        ).headers["Docker-Content-Digest"]
        manifest = client.get(
            url, headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
        ).json()
        deleted = client.delete(
            f"{registry_plain.url}/v2/cache-e2e/faults-cache/manifests/{digest}"
        )
        assert deleted.status_code == 202
    b.build(repo=repo, reproducible=False)
    assert b.ran == 1 and "No cached layer" in b.log

    with httpx.Client() as client:
        manifest = client.get(
            url, headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
        ).json()
    hexa = manifest["layers"][0]["digest"].split(":")[1]
    data = registry_plain.directory / f"data/docker/registry/v2/blobs/sha256/{hexa[:2]}/{hexa}/data"
    blob = bytearray(data.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    data.write_bytes(bytes(blob))
    b.build(repo=repo, reproducible=False)
    assert b.ran == 1 and "digest mismatch" in b.log
    assert _flat(dest)["/stamp"]  # the image pushed is whole


def test_a_corrupt_layout_blob_is_rebuilt(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, oci_cache: str
) -> None:
    dest = f"{registry_plain.host}/cache-e2e/layout-corrupt:1"
    b = Builder(tmp_path, caplog, dest)
    b.write("Dockerfile", f"FROM {base_images['busybox']}\nRUN echo {MARK} && echo x > /x\n")
    first = b.build(repo=oci_cache)
    [entry] = [p for p in (tmp_path / "cache").iterdir() if p.name.startswith("layers:")]
    index = json.loads((entry / "index.json").read_text())
    manifest = json.loads(
        (entry / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text()
    )
    blob = entry / "blobs/sha256" / manifest["layers"][0]["digest"][7:]
    blob.write_bytes(blob.read_bytes()[:-8] + b"garbage!")
    assert b.build(repo=oci_cache) == first
    assert b.ran == 1 and "digest mismatch" in b.log


def test_the_cache_repo_on_another_registry_with_other_credentials(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, registry_token: Registry,
    monkeypatch,
) -> None:  # fmt: skip
    """The destination is the plain registry; the cache is on the token registry, where
    only carol (pull and push on ``cache/*``) may touch it."""
    config = registry_token.docker_config(tmp_path / "docker", "carol")
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    tls = RegistryOptions(registry_certificates={registry_token.host: str(registry_token.ca_cert)})
    dest = f"{registry_plain.host}/cache-e2e/other:1"
    b = Builder(tmp_path, caplog, dest)
    b.write("Dockerfile", f"FROM {base_images['busybox']}\nRUN echo {MARK} && echo x > /x\n")
    repo = f"{registry_token.host}/cache/other"
    first = b.build(repo=repo, registry=tls)
    assert b.ran == 1
    auth = ("carol", registry_token.users["carol"])
    assert len(_tags(registry_token, "cache/other", auth)) == 1
    assert b.build(repo=repo, registry=tls) == first
    assert (b.ran, b.hits) == (0, 1)


def test_accounts_that_may_not_write_or_read_never_fail_the_build(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, registry_token: Registry,
    monkeypatch,
) -> None:  # fmt: skip
    """carol fills the cache; dave may only pull: his builds hit (with --no-push too: the
    cache repository's push permission is not checked first), and each entry he would
    write is a warning. A repository neither may read (refused) is a warning per step."""
    tls = RegistryOptions(registry_certificates={registry_token.host: str(registry_token.ca_cert)})
    b = Builder(tmp_path, caplog, f"{registry_plain.host}/cache-e2e/ro:1")
    b.write("Dockerfile", f"FROM {base_images['busybox']}\nRUN echo {MARK} && echo x > /x\n")
    repo = f"{registry_token.host}/cache/ro"
    monkeypatch.setenv("DOCKER_CONFIG", str(registry_token.docker_config(tmp_path / "c", "carol")))
    b.build(repo=repo, registry=tls)
    monkeypatch.setenv("DOCKER_CONFIG", str(registry_token.docker_config(tmp_path / "d", "dave")))
    b.build(repo=repo, registry=tls)
    assert (b.ran, b.hits) == (0, 1)
    b.build(repo=repo, registry=tls, no_push=True)
    assert (b.ran, b.hits) == (0, 1)
    b.write("Dockerfile", f"FROM {base_images['busybox']}\nRUN echo {MARK} && echo y > /y\n")
    b.build(repo=repo, registry=tls, no_push=True)
    assert b.ran == 1 and "Could not store cache entry" in b.log
    b.build(repo=f"{registry_token.host}/elsewhere/cache", registry=tls)
    assert b.ran == 1 and "unreadable" in b.log


def test_no_push_cache_reads_only_and_the_default_repository(
    tmp_path: Path, caplog, base_images, registry_plain: Registry
) -> None:
    """Without --cache-repo entries go to ``<destination repository>/cache``; with
    --no-push-cache they are read, never written."""
    b = Builder(tmp_path, caplog, f"{registry_plain.host}/cache-e2e/default:1")
    b.write(
        "Dockerfile", f"FROM {base_images['busybox']}\nRUN echo {MARK} && echo x > /x\nRUN true\n"
    )
    b.build()
    assert len(_tags(registry_plain, "cache-e2e/default/cache")) == 2
    b.build(no_push_cache=True)
    assert b.hits == 2
    b.write("Dockerfile", f"FROM {base_images['busybox']}\nRUN echo {MARK} && echo y > /y\n")
    b.build(no_push_cache=True)
    assert b.ran == 1 and len(_tags(registry_plain, "cache-e2e/default/cache")) == 2


def test_two_builds_write_one_key_at_once(
    tmp_path: Path, base_images, registry_plain: Registry
) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {base_images['busybox']}\nRUN echo same > /same\n")
    repo = f"{registry_plain.host}/cache-e2e/race-cache"
    layout = f"oci:{tmp_path / 'layers'}"

    def start(n: int, cache_repo: str) -> subprocess.Popen[bytes]:
        argv = [
            sys.executable, "-m", "kaniko.cli.main", f"--context={ctx}",
            f"--destination={registry_plain.host}/cache-e2e/race:{n}", "--cache",
            f"--cache-repo={cache_repo}", "--reproducible", "--isolation=chroot",
            f"--kaniko-dir={tmp_path / f'k{n}'}",
        ]  # fmt: skip
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    for cache_repo in (repo, layout):
        builds = [start(n, cache_repo) for n in range(2)]
        outputs = [p.communicate(timeout=300)[0].decode() for p in builds]
        assert [p.returncode for p in builds] == [0, 0], outputs
        assert all("Could not store" not in out for out in outputs)
    assert len(_tags(registry_plain, "cache-e2e/race-cache")) == 1
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("layers:")]) == 1


def test_hits_after_a_miss_are_applied_to_the_root(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, oci_cache: str
) -> None:
    """The first RUN's entry is gone (a miss: the root is made and the RUN runs), the
    second RUN's entry is there (a hit over a root that exists: its deletion must reach
    the root), the third's is gone (it runs on that root and must not see the file)."""
    dest = f"{registry_plain.host}/cache-e2e/after-miss:1"
    b = Builder(tmp_path, caplog, dest)
    text = (
        "FROM {base}\nRUN echo {mark} && echo one > /one\n"
        "RUN echo {mark} && rm /etc/group && echo two > /two\n"
        "RUN echo {mark} && ls /etc > /listing\n"
    )
    b.write("Dockerfile", text.format(base=base_images["busybox"], mark=MARK))
    uncached = b.build(cache=False)
    b.build(repo=oci_cache)
    for entry in (tmp_path / "cache").iterdir():
        config = next(
            json.loads(p.read_text())
            for p in (entry / "blobs/sha256").iterdir()
            if p.stat().st_size < 4096 and b'"rootfs"' in p.read_bytes()
        )
        if "rm /etc/group" not in config["history"][0]["created_by"]:
            shutil.rmtree(entry)
    assert b.build(repo=oci_cache) == uncached
    assert (b.ran, b.hits) == (2, 1)
    listing = _flat(dest)["/listing"]
    assert listing is not None and b"group" not in listing and b"passwd" in listing


def test_a_run_bind_mount_of_the_context_counts_by_its_content(
    tmp_path: Path, caplog, base_images, registry_plain: Registry, oci_cache: str
) -> None:
    """RUN --mount=type=bind of the context: a changed source file misses (never a stale
    result), a file .dockerignore excludes does not count."""
    dest = f"{registry_plain.host}/cache-e2e/bind:1"
    b = Builder(tmp_path, caplog, dest)
    b.write(
        "Dockerfile",
        f"FROM {base_images['busybox']}\n"
        f"RUN --mount=type=bind,source=src,target=/src echo {MARK} && cat /src/in.txt > /out\n",
    )
    b.write(".dockerignore", "src/ignored.txt\n")
    b.write("src/in.txt", "one\n")
    b.write("src/ignored.txt", "x\n")
    b.build(repo=oci_cache)
    assert b.ran == 1
    b.write("src/ignored.txt", "y\n")
    b.build(repo=oci_cache)
    assert (b.ran, b.hits) == (0, 1)
    b.write("src/in.txt", "two\n")
    b.build(repo=oci_cache)
    assert b.ran == 1
    assert _flat(dest)["/out"] == b"two\n"
