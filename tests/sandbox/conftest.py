"""Fixtures of the sandbox tests: a busybox root with users, and a runner of shell scripts."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kaniko.sandbox import chroot
from kaniko.sandbox.spec import Isolation
from tests.lab.images import busybox_rootfs
from tests.sandbox.helpers import exec_form

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    "app:x:1000:1000:App:/home/app:/bin/sh\n"
)
GROUP = "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app\ndocker:x:2000:app\n"

Runner = Callable[..., tuple[int, list[str]]]


@pytest.fixture(scope="session")
def busybox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busybox root with an ``app`` user (1000, groups staff and docker), made once."""
    root = busybox_rootfs(tmp_path_factory.mktemp("sandbox") / "template")
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    (root / "home" / "app").mkdir()
    os.chown(root / "home" / "app", 1000, 1000)
    return root


@pytest.fixture
def rootfs(busybox_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the template (the busybox binary hard-linked, never written).

    The sandbox starts as in a fresh process: mounts not yet known to be refused.
    """
    monkeypatch.setattr(chroot, "_refused", None)
    root = tmp_path / "root"
    shutil.copytree(busybox_template, root, symlinks=True, copy_function=os.link)
    for path in (root / "etc" / "passwd", root / "etc" / "group"):
        shutil.copy2(busybox_template / path.relative_to(root), path.with_suffix(".new"))
        path.with_suffix(".new").replace(path)  # own inodes: tests edit these
    return root


@pytest.fixture
def shared_root(busybox_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The template itself, for tests whose RUNs change nothing in the root (faster)."""
    monkeypatch.setattr(chroot, "_refused", None)
    return busybox_template


def _runner(root: Path) -> Runner:
    def runner(
        script: str, *, isolation: Isolation = "auto", **fields: object
    ) -> tuple[int, list[str]]:
        return exec_form(root, ("/bin/sh", "-c", script), isolation=isolation, **fields)

    return runner


@pytest.fixture
def sh(rootfs: Path) -> Runner:
    """``sh(script, user=..., isolation=...)`` runs ``/bin/sh -c script`` in ``rootfs``."""
    return _runner(rootfs)


@pytest.fixture
def sh_shared(shared_root: Path) -> Runner:
    """Like ``sh`` but in ``shared_root``: only for scripts that write nothing there."""
    return _runner(shared_root)
