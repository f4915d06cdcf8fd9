"""RUN --mount in the chroot sandbox: real mounts (full), placed content (plain).

Every mount kind is checked from inside the step (what it sees, what it may write) and
from outside afterwards (the root holds nothing of it, the sources are as they were, the
mount points the sandbox created are gone as BuildKit's stub cleaner removes them).
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.sandbox.chroot import run
from kaniko.sandbox.mountspec import MountSpec
from kaniko.sandbox.spec import Isolation, RunSpec
from tests.sandbox.helpers import mounts_below, processes_in, tree

BOTH: list[Isolation] = ["full", "plain"]


def _run(
    root: Path, script: str, mounts: tuple[MountSpec, ...], isolation: Isolation, **fields: object
) -> tuple[int, list[str]]:
    lines: list[str] = []
    fields.setdefault("env", ())
    spec = RunSpec(root=root, argv=("/bin/sh", "-c", script), mounts=mounts, **fields)  # type: ignore[arg-type]
    return run(spec, on_output=lines.append, isolation=isolation), lines


@pytest.fixture
def context(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    (ctx / "sub").mkdir(parents=True)
    (ctx / "f.txt").write_text("context file\n")
    (ctx / "sub" / "g.txt").write_text("g\n")
    (ctx / "link").symlink_to("/etc/passwd")  # resolved in the step's root, never the host's
    os.chown(ctx / "sub" / "g.txt", 1000, 1000)
    return ctx


@pytest.mark.parametrize("isolation", BOTH)
def test_bind_read_only_and_rw_leave_the_source_and_the_root_as_they_were(
    rootfs: Path, context: Path, isolation: Isolation
) -> None:
    before_root, before_ctx = tree(rootfs), tree(context)
    mounts = (
        MountSpec("bind", "/src", source=context),
        MountSpec("bind", "/work/rw", source=context / "sub", readonly=False, discard=True),
        MountSpec("bind", "/etc/one.txt", source=context / "f.txt"),
    )
    script = (
        "cat /src/f.txt /etc/one.txt; stat -c '%u %n' /src/sub/g.txt;"
        "readlink /src/link;"
        "echo new > /work/rw/new && cat /work/rw/new /work/rw/g.txt;"
        "echo changed > /work/rw/g.txt && cat /work/rw/g.txt"
    )
    if isolation == "full":
        script += "; touch /src/x 2>/dev/null || echo read-only"
    code, lines = _run(rootfs, script, mounts, isolation)
    assert code == 0, lines
    assert lines[:7] == ["context file", "context file", "1000 /src/sub/g.txt", "/etc/passwd",
                         "new", "g", "changed"]  # fmt: skip
    if isolation == "full":
        assert lines[7] == "read-only"
    assert tree(context) == before_ctx  # writes discarded, nothing added
    assert tree(rootfs) == before_root  # /src, /work and /etc/one.txt are gone again
    assert mounts_below(rootfs) == []


def test_plain_fails_a_step_that_writes_to_a_read_only_bind(rootfs: Path, context: Path) -> None:
    before = tree(context)
    with pytest.raises(BuildError, match=r"changed /src/f.txt in this read-only mount"):
        _run(rootfs, "echo x >> /src/f.txt", (MountSpec("bind", "/src", source=context),), "plain")
    assert tree(context) == before or (context / "f.txt").read_text().startswith("context")
    with pytest.raises(BuildError, match=r"changed /src/new in this read-only mount"):
        _run(rootfs, "touch /src/new", (MountSpec("bind", "/src", source=context),), "plain")
    assert not (context / "new").exists()
    assert not (rootfs / "src").exists()


@pytest.mark.parametrize("isolation", BOTH)
def test_cache_keeps_what_the_step_writes(
    rootfs: Path, tmp_path: Path, isolation: Isolation
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "old").write_text("from before\n")
    mounts = (MountSpec("cache", "/root/.cache/pip", source=cache, readonly=False),)
    code, lines = _run(rootfs, "cat /root/.cache/pip/old; echo 1 > /root/.cache/pip/new", mounts,
                       isolation)  # fmt: skip
    assert (code, lines) == (0, ["from before"])
    assert (cache / "new").read_text() == "1\n"
    assert not (rootfs / "root" / ".cache").exists()  # its stub parent went too


@pytest.mark.parametrize("isolation", BOTH)
def test_tmpfs_is_empty_writable_and_gone(rootfs: Path, isolation: Isolation) -> None:
    (rootfs / "tmp" / "keep").write_text("image's\n")
    before = tree(rootfs)
    mounts = (MountSpec("tmpfs", "/tmp", readonly=False, size=1 << 20),)
    script = "ls -A /tmp; echo x > /tmp/x && cat /tmp/x; stat -c %a /tmp"
    if isolation == "full":
        script += "; df /tmp | tail -1 | awk '{print $2}'"
    code, lines = _run(rootfs, script, mounts, isolation)
    assert code == 0
    assert lines[:2] == ["x", "1777"]  # the image's /tmp is hidden, not listed
    if isolation == "full":
        assert lines[2] == "1024"  # size=1m
    assert tree(rootfs) == before  # the image's /tmp/keep is back, nothing else


def test_secret_is_a_read_only_file_on_a_private_tmpfs(rootfs: Path) -> None:
    value = b"s3cr3t-\x00binary-\xff"
    mounts = (
        MountSpec("secret", "/run/secrets/token", data=value),
        MountSpec("secret", "/etc/app/key", data=b"k", uid=1000, gid=50, mode=0o440),
    )
    script = (
        "stat -c '%a %u %g %s' /run/secrets/token /etc/app/key;"
        "grep -c tmpfs /proc/mounts;"
        "(echo x > /run/secrets/token) 2>/dev/null || echo read-only;"
        "cp /run/secrets/token /tmp/copy"
    )
    before = tree(rootfs)
    code, lines = _run(rootfs, script, mounts, "full")
    assert code == 0, lines
    assert lines[0] == f"400 0 0 {len(value)}"
    assert lines[1] == "440 1000 50 1"
    assert lines[3] == "read-only"
    assert (rootfs / "tmp" / "copy").read_bytes() == value  # the step itself can copy it
    (rootfs / "tmp" / "copy").unlink()
    after = tree(rootfs)
    after.pop("tmp"), before.pop("tmp")  # its mtime: the copy made and removed there
    assert after == before  # /run, /run/secrets, /etc/app: created and removed


def test_secret_never_goes_into_a_plain_chroot(rootfs: Path) -> None:
    before = tree(rootfs)
    mounts = (MountSpec("bind", "/src", source=rootfs / "etc"),
              MountSpec("secret", "/run/secrets/t", data=b"value"))  # fmt: skip
    with pytest.raises(BuildError, match="a secret is never written into a chroot's root"):
        _run(rootfs, "true", mounts, "plain")
    assert tree(rootfs) == before


@pytest.mark.parametrize("isolation", BOTH)
def test_ssh_socket_reaches_the_listener(
    rootfs: Path, tmp_path: Path, isolation: Isolation
) -> None:
    """busybox has no unix-socket client: while the step waits, the test connects to the
    socket at its target through the step's own root (``/proc/PID/root``)."""
    path = tmp_path / "agent.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    os.chmod(path, 0o600)
    target = "/run/buildkit/ssh_agent.0"
    answers: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(conn.recv(100).upper())

    def on_output(line: str) -> None:
        lines.append(line)
        if line != "ready":
            return
        for pid in processes_in(rootfs):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(f"/proc/{pid}/root{target}")
                client.sendall(b"ping")
                answers.append(client.recv(100))
            break

    threading.Thread(target=serve, daemon=True).start()
    lines: list[str] = []
    spec = RunSpec(
        root=rootfs,
        argv=("/bin/sh", "-c", f"test -S {target} && stat -c %a {target} && echo ready && sleep 1"),
        env=(),
        mounts=(MountSpec("ssh", target, source=path, readonly=False),),
    )
    try:
        code = run(spec, on_output=on_output, isolation=isolation)
    finally:
        listener.close()
    assert (code, lines) == (0, ["600", "ready"])
    assert answers == [b"PING"]
    assert not (rootfs / "run").exists()


@pytest.mark.parametrize("isolation", BOTH)
def test_nested_targets(rootfs: Path, context: Path, tmp_path: Path, isolation: Isolation) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    mounts = (
        MountSpec("cache", "/app/node_modules", source=cache, readonly=False),
        MountSpec("bind", "/app", source=context, readonly=False, discard=True),
        MountSpec("tmpfs", "/app/tmp/deep", readonly=False),
    )
    script = "ls /app; echo m > /app/node_modules/m; echo t > /app/tmp/deep/t; ls /app/tmp"
    before_ctx = tree(context)
    code, lines = _run(rootfs, script, mounts, isolation)
    assert code == 0, lines
    assert lines == ["f.txt", "link", "node_modules", "sub", "tmp", "deep"]
    assert (cache / "m").read_text() == "m\n"
    assert tree(context) == before_ctx
    assert not (rootfs / "app").exists()


def test_a_target_inside_a_read_only_bind_must_exist(rootfs: Path, context: Path) -> None:
    mounts = (MountSpec("bind", "/src", source=context),
              MountSpec("tmpfs", "/src/missing", readonly=False))  # fmt: skip
    with pytest.raises(BuildError, match="does not exist in the read-only mount at /src"):
        _run(rootfs, "true", mounts, "full")
    mounts = (MountSpec("bind", "/src", source=context),
              MountSpec("tmpfs", "/src/sub", readonly=False))  # fmt: skip
    code, lines = _run(rootfs, "ls /src/sub | wc -l", mounts, "full")
    assert (code, lines) == (0, ["0"])


@pytest.mark.parametrize("isolation", BOTH)
def test_targets_follow_the_image_symlinks_inside_the_root(
    rootfs: Path, context: Path, isolation: Isolation
) -> None:
    (rootfs / "escape").symlink_to("/../../../../tmp")  # absolute: resolved inside the root
    mounts = (MountSpec("bind", "/escape/src", source=context),)
    code, lines = _run(rootfs, "cat /tmp/src/f.txt", mounts, isolation)
    assert (code, lines) == (0, ["context file"])
    assert not (rootfs / "tmp" / "src").exists()


@pytest.mark.parametrize("isolation", BOTH)
def test_existing_mount_points_stay_and_keep_their_metadata(
    rootfs: Path, context: Path, isolation: Isolation
) -> None:
    point = rootfs / "srv"
    point.mkdir(mode=0o700)
    (point / "image-file").write_text("x")
    os.utime(point, ns=(1, 1_000_000_000))
    os.utime(rootfs, ns=(1, 2_000_000_000))
    before = tree(rootfs)
    code, lines = _run(rootfs, "ls /srv", (MountSpec("bind", "/srv", source=context),), isolation)
    assert (code, lines) == (0, ["f.txt", "link", "sub"])
    assert tree(rootfs) == before  # mtimes of / and /srv included


def test_errors_name_the_mount(rootfs: Path, context: Path) -> None:
    (rootfs / "afile").write_text("x")
    with pytest.raises(BuildError, match=r"type=bind,target=/afile: .* not a directory"):
        _run(rootfs, "true", (MountSpec("bind", "/afile", source=context),), "full")
    with pytest.raises(BuildError, match="two mounts have the target /x"):
        _run(rootfs, "true", (MountSpec("tmpfs", "/x"), MountSpec("tmpfs", "/x")), "full")
    assert (rootfs / "afile").read_text() == "x"


def test_a_missing_overlay_falls_back_to_a_copy(
    rootfs: Path, context: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kaniko.sandbox import chroot

    monkeypatch.setattr(chroot, "_overlay_refused", "test")
    mounts = (MountSpec("bind", "/w", source=context, readonly=False, discard=True),)
    before = tree(context)
    script = "echo x > /w/f.txt; cat /w/f.txt; grep -c overlay /proc/mounts || true"
    code, lines = _run(rootfs, script, mounts, "full")
    assert (code, lines) == (0, ["x", "0"])
    assert tree(context) == before
