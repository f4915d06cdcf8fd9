"""git contexts end to end against Debian's git: ``git daemon`` (git://) and
``git http-backend`` behind HTTP(S) with Basic auth, a repository with a submodule, and a
private one that needs a token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kaniko.errors import ContextError
from kaniko.options import GitOptions
from kaniko.redact import redact
from tests.context.helpers import DOCKERFILE, build_context
from tests.lab.gitserver import GitHttpServer, git, git_daemon, git_http, make_repo

pytestmark = pytest.mark.e2e

TOKEN = "lab-git-token-5f2a9c"


@dataclass
class Repos:
    root: Path
    first: str  # commit ids of app.git
    second: str
    http: GitHttpServer
    https: GitHttpServer
    daemon: str


def _commit(tree: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git("add", "-A", cwd=tree)
    git("commit", "-q", "-m", message, cwd=tree)
    return git("rev-parse", "HEAD", cwd=tree)


@pytest.fixture(scope="module")
def repos(tmp_path_factory, test_ca) -> Iterator[Repos]:
    root, work = tmp_path_factory.mktemp("git-root"), tmp_path_factory.mktemp("git-work")
    # app.git: main with two commits (the first holds a large file the second deletes),
    # branch dev, annotated tag v1 on the first commit, a pull-request ref, a symlink
    _bare, app = make_repo(root, "app.git", work)
    big = "0123456789abcdef" * 40_000  # 640 kB that only a full-history fetch transfers
    first = _commit(app, {"Dockerfile": DOCKERFILE, "v.txt": "one", "big.bin": big}, "one")
    (app / "big.bin").unlink()
    (app / "link").symlink_to("v.txt")
    second = _commit(app, {"v.txt": "two", "web/Dockerfile": DOCKERFILE, "web/w": "w"}, "two")
    git("tag", "-a", "v1", "-m", "v1", first, cwd=app)
    git("push", "-q", "origin", "main", "v1", cwd=app)
    git("checkout", "-q", "-b", "dev", cwd=app)
    _commit(app, {"v.txt": "dev"}, "dev")
    git("push", "-q", "origin", "dev", cwd=app)
    git("push", "-q", "origin", f"{first}:refs/pull/7/head", cwd=app)
    # lib.git, and super.git whose submodule "vendor/lib" is ../lib.git
    _bare, lib = make_repo(root, "lib.git", work)
    _commit(lib, {"lib.txt": "library"}, "lib")
    git("push", "-q", "origin", "main", cwd=lib)
    _bare, sup = make_repo(root, "super.git", work)
    _commit(sup, {"Dockerfile": DOCKERFILE}, "super")
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", "../lib.git",
        "vendor/lib", cwd=sup)  # fmt: skip
    git("commit", "-q", "-m", "submodule", cwd=sup)
    git("push", "-q", "origin", "main", cwd=sup)
    # private/secret.git: served only to the token (or alice's password)
    _bare, secret = make_repo(root, "private/secret.git", work)
    _commit(secret, {"Dockerfile": DOCKERFILE, "s.txt": "secret"}, "secret")
    git("push", "-q", "origin", "main", cwd=secret)
    users = {"alice": "alice-git-pw"}
    with (
        git_http(root, token=TOKEN, users=users) as http,
        git_http(root, token=TOKEN, users=users, ca=test_ca) as https,
        git_daemon(root) as daemon,
    ):
        yield Repos(root, first, second, http, https, daemon)


def _no_git_env(monkeypatch, method: str = "") -> None:
    for name in ("GIT_TOKEN", "GIT_USERNAME", "GIT_PASSWORD", "GIT_PULL_METHOD"):
        monkeypatch.delenv(name, raising=False)
    if method:  # kaniko's git:// means https unless GIT_PULL_METHOD says otherwise
        monkeypatch.setenv("GIT_PULL_METHOD", method)


def test_git_protocol_default_branch_is_a_shallow_fetch(tmp_path, monkeypatch, repos) -> None:
    _no_git_env(monkeypatch, "git")
    files = build_context(f"{repos.daemon}/app.git", tmp_path / "a")
    assert files["v.txt"] == b"two" and files["link"] == b"-> v.txt"
    assert "big.bin" not in files


def test_http_refs_tags_pulls_and_commits(tmp_path, monkeypatch, repos) -> None:
    _no_git_env(monkeypatch)
    url = f"{repos.http.url}/app.git"
    repos.http.sent.clear()
    assert build_context(url, tmp_path / "main")["v.txt"] == b"two"
    shallow = repos.http.sent["/app.git/git-upload-pack"]
    assert shallow < 100_000, shallow  # depth 1: the deleted 640 kB blob never came
    cases = {
        "#dev": b"dev",
        "#refs/heads/dev": b"dev",
        "#v1": b"one",
        "#refs/tags/v1": b"one",
        "#refs/pull/7/head": b"one",
        f"#{repos.first}": b"one",
        f"#refs/heads/main#{repos.first}": b"one",
    }
    for fragment, expected in cases.items():
        layout = tmp_path / fragment.replace("/", "_").replace("#", "_")
        assert build_context(url + fragment, layout)["v.txt"] == expected, fragment


def test_kaniko_git_prefix_and_git_options(tmp_path, monkeypatch, repos) -> None:
    _no_git_env(monkeypatch)
    monkeypatch.setenv("GIT_PULL_METHOD", "http")
    hostpath = repos.http.url.removeprefix("http://")
    context = f"git://{hostpath}/app.git"
    assert build_context(context, tmp_path / "a")["v.txt"] == b"two"
    files = build_context(context, tmp_path / "b", git=GitOptions(branch="v1", single_branch=True))
    assert files["v.txt"] == b"one"
    with pytest.raises(ContextError, match="invalid branch: nope"):
        build_context(context, tmp_path / "c", git=GitOptions(branch="nope"))


def test_buildkit_subdir_and_context_sub_path(tmp_path, monkeypatch, repos) -> None:
    _no_git_env(monkeypatch)
    url = f"{repos.http.url}/app.git"
    assert set(build_context(f"{url}#main:web", tmp_path / "a")) == {"Dockerfile", "w"}
    assert set(build_context(url, tmp_path / "b", sub_path="web")) == {"Dockerfile", "w"}


def test_https_needs_trust_or_insecure_skip_tls(tmp_path, monkeypatch, repos, test_ca) -> None:
    _no_git_env(monkeypatch)
    url = f"{repos.https.url}/app.git"
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    with pytest.raises(ContextError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
        build_context(url, tmp_path / "a")
    files = build_context(url, tmp_path / "b", git=GitOptions(insecure_skip_tls=True))
    assert files["v.txt"] == b"two"
    monkeypatch.setenv("SSL_CERT_FILE", str(test_ca.cert_path))
    assert build_context(url, tmp_path / "c")["v.txt"] == b"two"


def test_submodules(tmp_path, monkeypatch, repos) -> None:
    _no_git_env(monkeypatch)
    url = f"{repos.http.url}/super.git"
    without = build_context(url, tmp_path / "a")
    assert "vendor/lib/lib.txt" not in without
    files = build_context(url, tmp_path / "b", git=GitOptions(recurse_submodules=True))
    assert files["vendor/lib/lib.txt"] == b"library"
    monkeypatch.setenv("GIT_PULL_METHOD", "git")
    daemon = build_context(
        f"{repos.daemon}/super.git", tmp_path / "c", git=GitOptions(recurse_submodules=True)
    )
    assert daemon["vendor/lib/lib.txt"] == b"library"


def test_private_repository_needs_the_token(tmp_path, monkeypatch, repos, caplog) -> None:
    _no_git_env(monkeypatch)
    caplog.set_level("DEBUG")
    url = f"{repos.http.url}/private/secret.git"
    with pytest.raises(ContextError, match="authentication required or refused"):
        build_context(url, tmp_path / "a")
    monkeypatch.setenv("GIT_TOKEN", TOKEN)
    assert build_context(url, tmp_path / "b")["s.txt"] == b"secret"
    monkeypatch.delenv("GIT_TOKEN")
    monkeypatch.setenv("GIT_USERNAME", "alice")
    monkeypatch.setenv("GIT_PASSWORD", "alice-git-pw")
    assert build_context(url, tmp_path / "c")["s.txt"] == b"secret"
    _no_git_env(monkeypatch)
    userinfo = url.replace("http://", "http://alice:alice-git-pw@")
    assert build_context(userinfo, tmp_path / "d")["s.txt"] == b"secret"
    wrong = url.replace("http://", "http://alice:wrong-pw-123@")
    with pytest.raises(ContextError) as info:
        build_context(wrong, tmp_path / "e")
    assert "wrong-pw-123" not in redact(str(info.value))
    assert "alice:***@" in str(info.value)
    for secret in (TOKEN, "alice-git-pw", "wrong-pw-123"):
        assert secret not in redact(caplog.text)


def test_missing_repository_branch_and_commit(tmp_path, monkeypatch, repos) -> None:
    _no_git_env(monkeypatch)
    base = f"{repos.http.url}"
    cases = {
        f"{base}/nope.git": "no such repository",
        f"{base}/app.git#nope": "no such branch, tag or ref: nope",
        f"{base}/app.git#{'0' * 40}": "no such commit",
    }
    for context, message in cases.items():
        with pytest.raises(ContextError, match=message) as info:
            build_context(context, tmp_path / "layout")
        assert str(info.value).startswith(context.split("#")[0])
    monkeypatch.setenv("GIT_PULL_METHOD", "git")
    with pytest.raises(ContextError, match="no such repository") as info:
        build_context(f"{repos.daemon}/nope.git", tmp_path / "layout")
    assert str(info.value).startswith(f"{repos.daemon}/nope.git: ")
    assert not list((tmp_path / "kaniko" / "buildcontext").iterdir())
