"""ADD of git repositories, from Debian's ``git http-backend`` on loopback."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kaniko.errors import BuildError, NotSupportedYet
from tests.executor.helpers import add, make_context, make_root, run
from tests.lab.gitserver import GitHttpServer, git, git_http, make_repo

pytestmark = pytest.mark.e2e


@dataclass
class Repo:
    url: str  # of app.git
    main: str  # its commits
    tagged: str
    server: GitHttpServer


def _commit(tree: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    git("add", "-A", cwd=tree)
    git("commit", "-q", "-m", message, cwd=tree)
    return git("rev-parse", "HEAD", cwd=tree)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repo]:
    root, work = tmp_path_factory.mktemp("git-root"), tmp_path_factory.mktemp("git-work")
    _bare, lib = make_repo(root, "lib.git", work)
    _commit(lib, {"lib.txt": "library"}, "lib")
    git("push", "-q", "origin", "main", cwd=lib)
    _bare, app = make_repo(root, "app.git", work)
    _commit(app, {"v.txt": "one", "docs/readme": "docs one", "run.sh": "#!/bin/sh\n"}, "one")
    os.chmod(app / "run.sh", 0o755)
    git("add", "-A", cwd=app)
    git("commit", "-q", "-m", "exec", cwd=app)
    tagged = git("rev-parse", "HEAD", cwd=app)
    git("tag", "v1", cwd=app)
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", "../lib.git", "vendor/lib",
        cwd=app)  # fmt: skip
    main = _commit(app, {"v.txt": "two"}, "two")
    git("push", "-q", "origin", "main", "v1", cwd=app)
    with git_http(root, token="t") as server:
        yield Repo(f"{server.url}/app.git", main, tagged, server)


def _files(root: Path, top: str) -> dict[str, tuple[int, int, int]]:
    found = {}
    base = root / top.lstrip("/")
    for directory, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            st = os.lstat(os.path.join(directory, name))
            found[os.path.relpath(os.path.join(directory, name), base)] = (
                st.st_mode & 0o7777, st.st_uid, st.st_gid,
            )  # fmt: skip
    return found


def test_add_checks_out_the_default_branch_with_submodules(tmp_path: Path, repo: Repo) -> None:
    ctx, root = make_context(tmp_path / "c"), make_root(tmp_path / "r")
    run(add(repo.url, "/app"), ctx, root)
    assert _files(root, "/app") == {
        ".gitmodules": (0o644, 0, 0), "docs/readme": (0o644, 0, 0), "run.sh": (0o755, 0, 0),
        "v.txt": (0o644, 0, 0), "vendor/lib/lib.txt": (0o644, 0, 0),
    }  # fmt: skip
    assert (root / "app" / "v.txt").read_text() == "two"
    assert not (root / "app" / ".git").exists()


def test_a_ref_a_subdirectory_and_chown(tmp_path: Path, repo: Repo) -> None:
    ctx, root = make_context(tmp_path / "c"), make_root(tmp_path / "r")
    run(add(f"{repo.url}#v1:docs", "/docs/", chown="1000:1000"), ctx, root)
    assert _files(root, "/docs") == {"readme": (0o644, 1000, 1000)}
    with pytest.raises(BuildError, match="nope is no directory of the repository"):
        run(add(f"{repo.url}#main:nope", "/x"), ctx, root)
    with pytest.raises(BuildError, match="no such branch, tag or ref: missing"):
        run(add(f"{repo.url}#missing", "/x"), ctx, root)


def test_keep_git_dir_gives_a_repository_git_understands(tmp_path: Path, repo: Repo) -> None:
    ctx, root = make_context(tmp_path / "c"), make_root(tmp_path / "r")
    run(add(f"{repo.url}#main", "/src", keep_git_dir=True), ctx, root)
    src = root / "src"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}

    def host_git(*args: str) -> str:
        done = subprocess.run(["git", "-c", f"safe.directory={src}", *args], cwd=src, env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout.strip()

    assert host_git("rev-parse", "HEAD") == repo.main
    assert host_git("symbolic-ref", "HEAD") == "refs/heads/main"
    assert host_git("status", "--porcelain") == ""  # the index matches the checkout
    assert host_git("log", "--format=%s") == "two"  # shallow: one commit


def test_checksum_names_the_commit(tmp_path: Path, repo: Repo) -> None:
    ctx, root = make_context(tmp_path / "c"), make_root(tmp_path / "r")
    run(add(f"{repo.url}#v1", "/a", checksum=repo.tagged), ctx, root)
    run(add(f"{repo.url}#v1", "/b", checksum=repo.tagged[:12]), ctx, root)
    with pytest.raises(BuildError, match="checksum mismatch"):
        run(add(f"{repo.url}#v1", "/c", checksum=repo.main), ctx, root)
    with pytest.raises(BuildError, match="want the commit's id"):
        run(add(f"{repo.url}#v1", "/c", checksum="sha256:abc"), ctx, root)


def test_ssh_urls_are_refused(tmp_path: Path) -> None:
    ctx, root = make_context(tmp_path / "c"), make_root(tmp_path / "r")
    with pytest.raises(NotSupportedYet, match="git over ssh is not supported yet"):
        run(add("git@github.com:moby/buildkit.git", "/x"), ctx, root)
