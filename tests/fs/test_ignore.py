"""The ignore list: kaniko's prefix semantics, defaults, mount points, chroot coordinates."""

from __future__ import annotations

import pytest

from kaniko.errors import UsageError
from kaniko.fs.ignore import IgnoreList, mount_points

MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 27 0:40 / /workspace rw - ext4 /dev/vdb rw
41 27 0:41 /hosts /etc/hosts rw - ext4 /dev/vda rw
42 27 0:42 / /mnt/with\\040space rw - tmpfs tmpfs rw
43 27 0:43 / /build/root/proc rw - proc proc rw
44 27 0:44 / /build/root/var/cache/apt rw - tmpfs tmpfs rw
45 27 0:45 / /build/rootfs rw - tmpfs tmpfs rw
"""


def test_prefix_semantics_on_whole_components() -> None:
    ignore = IgnoreList(["/var/run", "/kaniko"])
    assert ignore.ignored("/var/run")
    assert ignore.ignored("/var/run/docker.sock")
    assert ignore.ignored("/kaniko/executor")
    assert not ignore.ignored("/var/running")
    assert not ignore.ignored("/var")
    assert not ignore.ignored("/")
    assert not ignore.ignored("/kanikox")


def test_relative_and_unclean_paths() -> None:
    ignore = IgnoreList(["var/run/", "//proc"])
    assert ignore.paths == ("/proc", "/var/run")
    assert ignore.ignored_rel("var/run/x")
    assert ignore.ignored_rel("proc")
    assert not ignore.ignored_rel("")
    assert ignore.ignored("/var/./run/x")
    assert ignore.ignored("/usr/../proc/1")
    assert ignore.ignored_rel("./proc/self")
    assert not ignore.ignored_rel("usr/proc")


def test_has_ignored_below() -> None:
    ignore = IgnoreList(["/var/run", "/etc/hosts"])
    assert ignore.has_ignored_below("/var")
    assert ignore.has_ignored_below("/")
    assert ignore.has_ignored_below_rel("etc")
    assert not ignore.has_ignored_below("/var/run")  # strictly below
    assert not ignore.has_ignored_below("/usr")
    assert not IgnoreList().has_ignored_below("/")


def test_root_cannot_be_ignored() -> None:
    with pytest.raises(UsageError):
        IgnoreList(["/"])


def test_mount_points_decode_escapes() -> None:
    assert mount_points(MOUNTINFO)[4] == "/mnt/with space"


def test_default_list() -> None:
    ignore = IgnoreList.default(extra=["/cache/x"], mountinfo=MOUNTINFO)
    for path in ("/kaniko", "/proc", "/sys", "/dev", "/etc/mtab", "/tmp/apt-key-gpghome"):
        assert ignore.ignored(path), path
    assert ignore.ignored("/var/run/secrets")
    assert ignore.ignored("/workspace/Dockerfile")
    assert ignore.ignored("/etc/hosts")
    assert ignore.ignored("/mnt/with space/f")
    assert ignore.ignored("/cache/x/y")
    assert not ignore.ignored("/etc/passwd")
    assert not ignore.ignored("/usr/bin/sh")  # '/' itself is a mount point but never ignored


def test_default_options() -> None:
    ignore = IgnoreList.default(kaniko_dir="/not-kaniko", ignore_var_run=False, mountinfo="")
    assert ignore.ignored("/not-kaniko/x")
    assert not ignore.ignored("/kaniko/x")
    assert not ignore.ignored("/var/run/x")


def test_default_reads_this_process_mountinfo() -> None:
    with open("/proc/self/mountinfo") as f:
        points = [p for p in mount_points(f.read()) if p != "/"]
    ignore = IgnoreList.default()
    assert all(ignore.ignored(p) for p in points)


def test_for_root_translates_host_mounts() -> None:
    ignore = IgnoreList.for_root(
        "/build/root", mountinfo=MOUNTINFO, extra=["/opt/x"], kaniko_dir="/build/root/kaniko"
    )
    assert ignore.ignored("/var/cache/apt/archives")
    assert ignore.ignored("/proc/1")
    assert ignore.ignored("/dev/null")
    assert ignore.ignored("/opt/x")
    assert ignore.ignored("/kaniko/f")
    assert not ignore.ignored("/workspace")  # a host mount outside the root
    assert not ignore.ignored("/etc/hosts")
    assert not ignore.ignored("/build")
    assert not ignore.ignored("/s")  # /build/rootfs is not below /build/root


def test_for_root_skips_kaniko_dir_outside_root() -> None:
    ignore = IgnoreList.for_root("/build/root", mountinfo="", kaniko_dir="/kaniko")
    assert not ignore.ignored("/kaniko")


def test_with_paths_is_a_new_list() -> None:
    base = IgnoreList(["/a"])
    more = base.with_paths("/b", ["/c", "/d/e"])
    assert more.paths == ("/a", "/b", "/c", "/d/e")
    assert base.paths == ("/a",)
    assert more == IgnoreList(["/d/e", "/c", "/b", "/a"])
    assert len(more) == 4 and list(more) == list(more.paths)
