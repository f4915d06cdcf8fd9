"""Path resolution inside a root, checked against the kernel itself in a chrooted child."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaniko.errors import FilesystemError
from kaniko.fs.safepath import (
    MAX_SYMLINKS,
    clean_relpath,
    is_within,
    resolve_in_root,
    resolve_rel,
    safe_join,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("/a//./b/", "a/b"),
        ("./a/../b", "b"),
        ("", ""),
        (".", ""),
        ("/", ""),
        ("a/b/..", "a"),
        ("a/ b /c", "a/ b /c"),
        ("...", "..."),
        (".wh..wh..opq", ".wh..wh..opq"),
    ],
)
def test_clean_relpath(raw: str, clean: str) -> None:
    assert clean_relpath(raw) == clean


@pytest.mark.parametrize("raw", ["..", "../x", "a/../../x", "/../etc", "./a/b/../../.."])
def test_clean_relpath_refuses_escapes(raw: str) -> None:
    with pytest.raises(FilesystemError, match="escapes the root"):
        clean_relpath(raw)


def test_safe_join_is_lexical(tmp_path: Path) -> None:
    os.symlink("/etc", tmp_path / "link")
    assert safe_join(tmp_path, "/link/passwd") == tmp_path / "link" / "passwd"
    assert safe_join(tmp_path, "/") == tmp_path
    with pytest.raises(FilesystemError):
        safe_join(tmp_path, "../x")


def test_absolute_link_restarts_at_root(tmp_path: Path) -> None:
    (tmp_path / "usr" / "lib").mkdir(parents=True)
    os.symlink("/usr/lib", tmp_path / "lib")
    assert resolve_rel(tmp_path, "/lib/x.so") == "usr/lib/x.so"
    assert resolve_in_root(tmp_path, "lib") == tmp_path / "usr" / "lib"


def test_dotdot_stops_at_root(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    os.symlink("../../../../etc", tmp_path / "a" / "up")
    assert resolve_rel(tmp_path, "a/up/passwd") == "etc/passwd"
    assert resolve_rel(tmp_path, "../../a") == "a"


def test_follow_final(tmp_path: Path) -> None:
    os.symlink("/target", tmp_path / "l")
    assert resolve_rel(tmp_path, "l") == "target"
    assert resolve_rel(tmp_path, "l", follow_final=False) == "l"
    assert resolve_rel(tmp_path, "l/", follow_final=False) == "l"
    assert resolve_rel(tmp_path, "l/x", follow_final=False) == "target/x"


def test_missing_components_are_kept_lexically(tmp_path: Path) -> None:
    os.symlink("nowhere/deeper", tmp_path / "dangling")
    assert resolve_rel(tmp_path, "dangling/x") == "nowhere/deeper/x"
    assert resolve_rel(tmp_path, "new/../other") == "other"


def test_loops_raise(tmp_path: Path) -> None:
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    with pytest.raises(FilesystemError, match="ELOOP"):
        resolve_rel(tmp_path, "a/x")
    assert resolve_rel(tmp_path, "a", follow_final=False) == "a"


def test_chain_of_exactly_max_links_resolves(tmp_path: Path) -> None:
    for i in range(MAX_SYMLINKS):
        os.symlink(f"s{i + 1}", tmp_path / f"s{i}")
    (tmp_path / f"s{MAX_SYMLINKS}").mkdir()
    assert resolve_rel(tmp_path, "s0/f") == f"s{MAX_SYMLINKS}/f"
    os.symlink("s0", tmp_path / "one-more")
    with pytest.raises(FilesystemError):
        resolve_rel(tmp_path, "one-more/f")


def test_is_within() -> None:
    assert is_within("/r", "/r/a")
    assert is_within("/r/", "/r")
    assert not is_within("/r", "/rx")
    assert not is_within("/r", "/r/../x")


# -- differential: our resolution vs the kernel's after chroot() ---------------------------

NAMES = ["a", "b", "c"]
component = st.sampled_from([*NAMES, "..", ".", ""])
relative_target = st.lists(component, min_size=1, max_size=4).map("/".join).filter(bool)
absolute_target = st.lists(component, min_size=1, max_size=3).map(lambda p: "/" + "/".join(p))
link_target = relative_target | absolute_target


def _kernel_identity(root: Path, path: str) -> tuple[int, int] | str:
    """(st_dev, st_ino) of ``path`` as resolved by the kernel inside ``chroot(root)``."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: chroot and stat, report through the pipe
        try:
            os.close(read)
            os.chroot(root)
            os.chdir("/")
            try:
                st_ = os.stat("/" + path)
                result: object = (st_.st_dev, st_.st_ino)
            except OSError as e:
                result = os.strerror(e.errno or 0)
            os.write(write, pickle.dumps(result))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    links=st.dictionaries(st.sampled_from(["a", "b/x", "c", "b/y"]), link_target, max_size=4),
    path=st.lists(st.sampled_from([*NAMES, "x", "y", "..", "."]), min_size=1, max_size=5),
)
def test_resolution_matches_the_kernel(
    tmp_path_factory: pytest.TempPathFactory, links: dict[str, str], path: list[str]
) -> None:
    root = tmp_path_factory.mktemp("chroot")
    for name in NAMES:
        (root / name).mkdir(exist_ok=True)
    for name, target in links.items():
        where = root / name
        if where.is_dir() and not where.is_symlink():
            where.rmdir()
        os.symlink(target, where)
    text = "/".join(path)
    kernel = _kernel_identity(root, text)
    try:
        ours = resolve_in_root(root, text)
    except FilesystemError:
        assert not isinstance(kernel, tuple)  # the kernel fails too (ELOOP, or ENOENT first)
        return
    assert kernel != os.strerror(errno.ELOOP)
    assert is_within(root, ours)
    if isinstance(kernel, tuple):
        found = os.stat(ours)
        assert (found.st_dev, found.st_ino) == kernel, (text, links, ours)
