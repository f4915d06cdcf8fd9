"""Archive contexts end to end: tar:// files in every compression, tar://stdin, https URLs,
and the hostile-archive rules (no escape, links re-rooted, size limit, truncation)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kaniko.errors import ContextError, UsageError
from tests.context.helpers import build_context, context_files, make_tar, zstd_tar
from tests.e2e.served import serve

pytestmark = pytest.mark.e2e


def _kaniko_dir_is_clean(kaniko_dir: Path) -> None:
    contexts = kaniko_dir / "buildcontext"
    assert not contexts.exists() or list(contexts.iterdir()) == []


@pytest.mark.parametrize(
    ("suffix", "make"),
    [
        (".tar", lambda f: make_tar(f, mode="w")),
        (".tar.gz", lambda f: make_tar(f, mode="w:gz")),
        (".tgz", lambda f: make_tar(f, mode="w:gz")),
        (".tar.xz", lambda f: make_tar(f, mode="w:xz")),
        (".tar.bz2", lambda f: make_tar(f, mode="w:bz2")),
        (".tar.zst", zstd_tar),
    ],
)
def test_local_tar_in_every_compression(tmp_path: Path, suffix: str, make) -> None:
    archive = tmp_path / f"context{suffix}"
    archive.write_bytes(make(context_files()))
    files = build_context(f"tar://{archive}", tmp_path / "layout")
    assert files == {"Dockerfile": files["Dockerfile"], "hello.txt": b"hello\n",
                     "sub/dir/deep.txt": b"deep"}  # fmt: skip
    _kaniko_dir_is_clean(tmp_path / "kaniko")


def test_sub_path_in_an_archive(tmp_path: Path) -> None:
    archive = tmp_path / "c.tar.gz"
    archive.write_bytes(make_tar({"app/Dockerfile": b"FROM scratch\nCOPY . /ctx/\n",
                                  "app/x": b"x", "other/y": b"y"}))  # fmt: skip
    files = build_context(f"tar://{archive}", tmp_path / "layout", sub_path="app")
    assert set(files) == {"Dockerfile", "x"}


def test_stdin_through_the_cli(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    argv = [sys.executable, "-m", "kaniko.cli", "--context=tar://stdin", "--no-push",
            f"--oci-layout-path={layout}", f"--kaniko-dir={tmp_path / 'k'}", "--force"]  # fmt: skip
    data = make_tar(context_files({"piped.txt": b"through a pipe"}))
    done = subprocess.run(argv, input=data, capture_output=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    from tests.context.helpers import image_files

    assert image_files(layout)["piped.txt"] == b"through a pipe"


def test_https_tarball_url(tmp_path: Path, test_ca, monkeypatch) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "context.tar.gz").write_bytes(make_tar(context_files({"web.txt": b"from http"})))
    with serve(served) as url:
        files = build_context(f"{url}/context.tar.gz", tmp_path / "layout")
        assert files["web.txt"] == b"from http"
        with pytest.raises(ContextError, match=r"missing.tar.gz: HTTP 404"):
            build_context(f"{url}/missing.tar.gz", tmp_path / "layout2")
    _kaniko_dir_is_clean(tmp_path / "kaniko")


# (files, symlinks written first, where the file must land inside the context or None
# when the archive is refused)
ESCAPES = {
    "dotdot": ({"../escaped": b"x"}, {}, None),
    "absolute_symlink": ({"link/owned": b"x"}, {"link": "/tmp"}, "link"),
    "relative_symlink": ({"up/owned": b"x"}, {"up": "../../../../.."}, "up"),
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_hostile_archives_stay_inside(tmp_path: Path, case: str) -> None:
    files, links, link = ESCAPES[case]
    archive = tmp_path / "evil.tar"
    archive.write_bytes(make_tar({**files, **context_files()}, mode="w", symlinks=links,
                                 links_first=True))  # fmt: skip
    if link is None:
        with pytest.raises(ContextError, match="escapes the root"):
            build_context(f"tar://{archive}", tmp_path / "layout")
    else:  # the link is kept as it is; the file through it lands inside the context
        built = build_context(f"tar://{archive}", tmp_path / "layout")
        assert built[link] == b"-> " + links[link].encode()
        assert b"x" in [built.get("tmp/owned"), built.get("owned")]
    assert not (tmp_path / "escaped").exists()
    assert not os.path.exists("/tmp/owned")
    _kaniko_dir_is_clean(tmp_path / "kaniko")


def test_sub_path_symlink_cannot_leave_the_context(tmp_path: Path) -> None:
    archive = tmp_path / "c.tar"
    links = {"etc": "/etc", "loop": "loop", "deep": "/sub/dir"}
    archive.write_bytes(
        make_tar(
            context_files({"sub/dir/Dockerfile": b"FROM scratch\nCOPY . /ctx/\n"}),
            mode="w",
            symlinks=links,
        )
    )
    # /etc inside the context is the context's own (absent) etc: the host's is never used
    with pytest.raises(ContextError, match="a symlink loop"):
        build_context(f"tar://{archive}", tmp_path / "layout", sub_path="etc")
    with pytest.raises(ContextError, match="a symlink loop"):
        build_context(f"tar://{archive}", tmp_path / "layout", sub_path="loop")
    files = build_context(f"tar://{archive}", tmp_path / "layout", sub_path="deep")
    assert set(files) == {"Dockerfile", "deep.txt"}
    with pytest.raises(UsageError, match="leaves the build context"):
        build_context(f"tar://{archive}", tmp_path / "layout", sub_path="../..")
    _kaniko_dir_is_clean(tmp_path / "kaniko")


def test_size_limit_stops_a_bomb(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.tar.gz"
    archive.write_bytes(make_tar(context_files({"zeros": bytes(8 << 20)})))
    assert archive.stat().st_size < 100_000
    with pytest.raises(ContextError, match=r"more than 1048576 bytes .*--context-size-limit"):
        build_context(f"tar://{archive}", tmp_path / "layout", size_limit=1 << 20)
    _kaniko_dir_is_clean(tmp_path / "kaniko")
    files = build_context(f"tar://{archive}", tmp_path / "layout", size_limit=16 << 20)
    assert len(files["zeros"]) == 8 << 20


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not an archive at all\n" * 40, "not a tar archive"),
        (make_tar(context_files({"big": os.urandom(200_000)}))[:-60_000], "truncated"),
    ],
    ids=["not-a-tar", "truncated"],
)
def test_bad_archives_fail_cleanly(tmp_path: Path, data: bytes, message: str) -> None:
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(data)
    with pytest.raises(ContextError, match=message) as info:
        build_context(f"tar://{archive}", tmp_path / "layout")
    assert str(info.value).startswith(f"tar://{archive}: ")
    _kaniko_dir_is_clean(tmp_path / "kaniko")


def test_missing_archive_and_unknown_prefix(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="cannot open"):
        build_context(f"tar://{tmp_path}/nope.tar", tmp_path / "layout")
    with pytest.raises(UsageError, match="unknown build context prefix ftp://"):
        build_context("ftp://host/x", tmp_path / "layout")
