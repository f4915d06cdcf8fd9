"""The conformance oracle: build a Dockerfile with buildah and push it to a lab registry.

``buildah_build`` runs ``buildah bud --isolation chroot --storage-driver vfs --format docker``
with storage and configuration of its own (nothing from /etc/containers or ~/.config is
read: storage.conf, registries.conf, containers.conf, policy and auth file are written
here), pulls bases only from the lab registries (no unqualified names, so never Docker
Hub), pushes with ``--format v2s2`` so Docker-only config fields (Healthcheck, Shell,
OnBuild …) survive, removes the built image from its storage and returns the pushed
reference by digest.

One storage per process (so one per pytest-xdist worker), created on first use under the
temp dir and removed at exit; storage left by a killed process is swept on the next start.
The base images stay in it between builds, so only the first build pulls them.

buildah 1.28's chroot RUN leaves its mount points behind in the layer: empty
``/etc/hostname``, ``/etc/hosts``, ``/etc/resolv.conf`` and empty ``/dev``, ``/proc``,
``/run``, ``/sys``. Docker and kaniko leave none; :func:`strip_run_placeholders` removes
them from buildah's tree where the base image did not have them.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.lab.flatten import DIR, FILE, Tree, run_tool
from tests.lab.registry import Registry
from tests.lab.tools import require_tool

BUILD_TIMEOUT = 900.0  # seconds; package installs on the Debian base take the longest
PLACEHOLDERS = {
    "/etc/hostname": FILE,
    "/etc/hosts": FILE,
    "/etc/resolv.conf": FILE,
    "/dev": DIR,
    "/proc": DIR,
    "/run": DIR,
    "/sys": DIR,
}
_PREFIX = "kaniko-oracle-"


class Buildah:
    """A buildah with private storage and configuration under ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        self.binary = require_tool("buildah")
        self.workdir = workdir
        self.root = workdir / "root"
        self.runroot = workdir / "runroot"
        (workdir / "tmp").mkdir(parents=True, exist_ok=True)
        self.registries: set[str] = set()
        self.policy = workdir / "policy.json"
        self.policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
        (workdir / "auth.json").write_text('{"auths": {}}')
        (workdir / "containers.conf").write_text("[containers]\n[engine]\n")
        (workdir / "storage.conf").write_text(
            f'[storage]\ndriver = "vfs"\ngraphroot = "{self.root}"\nrunroot = "{self.runroot}"\n'
        )
        self._write_registries_conf()
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("BUILDAH_", "CONTAINERS_"))
        }
        self.env.update(
            CONTAINERS_CONF=str(workdir / "containers.conf"),
            CONTAINERS_STORAGE_CONF=str(workdir / "storage.conf"),
            CONTAINERS_REGISTRIES_CONF=str(workdir / "registries.conf"),
            REGISTRY_AUTH_FILE=str(workdir / "auth.json"),
            TMPDIR=str(workdir / "tmp"),
        )

    def _write_registries_conf(self) -> None:
        lines = ["unqualified-search-registries = []", 'short-name-mode = "disabled"']
        for host in sorted(self.registries):
            lines += ["", "[[registry]]", f'location = "{host}"', "insecure = true"]
        (self.workdir / "registries.conf").write_text("\n".join(lines) + "\n")

    def _run(self, args: list[str], what: str, timeout: float = BUILD_TIMEOUT) -> str:
        conf = self.workdir / "registries.conf"
        argv = [self.binary, "--root", str(self.root), "--runroot", str(self.runroot)]
        argv += ["--storage-driver", "vfs", "--registries-conf", str(conf)]
        return run_tool([*argv, *args], timeout=timeout, what=what, env=self.env).stdout

    def build(
        self,
        context_dir: Path | str,
        dockerfile: Path | str,
        *,
        registry: Registry | str,
        repo_tag: str,
        build_args: Iterable[str] = (),
        target: str | None = None,
        platform: str | None = None,
        secrets: Mapping[str, Path] | None = None,
    ) -> str:
        """Build, push to ``registry`` as ``repo_tag`` and return ``HOST/REPO@DIGEST``;
        ``secrets``: ``--secret`` id → file."""
        host = registry if isinstance(registry, str) else registry.host
        if host not in self.registries:
            self.registries.add(host)
            self._write_registries_conf()
        context = Path(context_dir).resolve()
        dockerfile_path = Path(dockerfile)
        if not dockerfile_path.is_absolute():
            dockerfile_path = context / dockerfile_path
        repo, tag = (
            repo_tag.rsplit(":", 1) if ":" in repo_tag.rsplit("/", 1)[-1] else (repo_tag, "latest")
        )
        name = f"{host}/{repo}:{tag}"
        iidfile = self.workdir / "tmp" / f"iid-{uuid.uuid4().hex}"
        args = ["bud", "--isolation", "chroot", "--format", "docker", "--pull=true"]
        args += ["--tls-verify=false", "--signature-policy", str(self.policy)]
        args += ["--identity-label=false", "--layers=false", "--rm", "--force-rm"]
        args += ["--iidfile", str(iidfile), "-f", str(dockerfile_path), "-t", name]
        for build_arg in build_args:
            args += ["--build-arg", build_arg]
        if target:
            args += ["--target", target]
        if platform:
            args += ["--platform", platform]
        for secret_id, path in (secrets or {}).items():
            args += ["--secret", f"id={secret_id},src={path}"]
        self._run([*args, str(context)], f"buildah bud of {dockerfile_path}")
        image_id = iidfile.read_text().strip()
        iidfile.unlink()
        digest_file = iidfile.with_name(iidfile.name + "-digest")
        try:
            self._run(
                ["push", "--format", "v2s2", "--tls-verify=false", "--signature-policy",
                 str(self.policy), "--digestfile", str(digest_file), image_id, f"docker://{name}"],
                f"buildah push of {name}",
                timeout=300,
            )  # fmt: skip
            digest = digest_file.read_text().strip()
        finally:
            digest_file.unlink(missing_ok=True)
            self._run(["rmi", "-f", image_id], "buildah rmi", timeout=120)
        return f"{host}/{repo}@{digest}"

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def _sweep_stale(parent: Path) -> None:
    """Remove storage that processes which no longer exist left behind."""
    for stale in parent.glob(_PREFIX + "*"):
        pid = stale.name[len(_PREFIX) :]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)


_default: Buildah | None = None


def default_buildah() -> Buildah:
    """This process's buildah (created on first use, removed at exit)."""
    global _default
    if _default is None:
        parent = Path(tempfile.gettempdir())
        _sweep_stale(parent)
        workdir = parent / f"{_PREFIX}{os.getpid()}"
        shutil.rmtree(workdir, ignore_errors=True)
        _default = Buildah(workdir)
        atexit.register(_default.cleanup)
    return _default


def close_default() -> None:
    """Remove this process's buildah storage now (the session fixture calls it: pytest-xdist
    workers may exit without running atexit handlers)."""
    global _default
    if _default is not None:
        _default.cleanup()
        _default = None


def buildah_build(
    context_dir: Path | str,
    dockerfile: Path | str,
    *,
    registry: Registry | str,
    repo_tag: str,
    build_args: Iterable[str] = (),
    target: str | None = None,
    platform: str | None = None,
    secrets: Mapping[str, Path] | None = None,
) -> str:
    """Build ``dockerfile`` (relative to ``context_dir`` unless absolute) with buildah.

    Pushes to ``registry`` (a lab :class:`Registry` or its ``host:port``) as ``repo_tag``
    and returns the pushed reference by digest. Raises ``LabToolError`` with buildah's
    output tail when a step fails.
    """
    return default_buildah().build(
        context_dir,
        dockerfile,
        registry=registry,
        repo_tag=repo_tag,
        build_args=build_args,
        target=target,
        platform=platform,
        secrets=secrets,
    )


def strip_run_placeholders(tree: Tree, base: Tree | None) -> Tree:
    """``tree`` without the empty mount points buildah's RUN left that ``base`` lacks."""
    drop = []
    for path, kind in PLACEHOLDERS.items():
        entry = tree.get(path)
        if entry is None or entry.type != kind or (base is not None and path in base):
            continue
        empty = entry.size == 0 if kind == FILE else not any(p.startswith(path + "/") for p in tree)
        if empty:
            drop.append(path)
    return tree.without(drop)
