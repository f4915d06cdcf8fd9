from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from kaniko.errors import RegistryError
from kaniko.redact import redact
from kaniko.registry.helpers.gitlab import GitLabHelper
from kaniko.registry.keychain import (
    ANONYMOUS,
    Credential,
    Keychain,
    default_config_paths,
    normalize_key,
)


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("https://index.docker.io/v1/", "index.docker.io"),
        ("docker.io", "index.docker.io"),
        ("registry-1.docker.io", "index.docker.io"),
        ("https://reg.example.com", "reg.example.com"),
        ("http://reg.example.com:5000/v2/", "reg.example.com:5000"),
        ("REG.Example.com", "reg.example.com"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_normalize_key(key: str, host: str) -> None:
    assert normalize_key(key) == host


def test_auth_field_and_username_password(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "config.json",
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": _b64("hubuser:hub:pw")},
                "reg.example.com": {"username": "u", "password": "p"},
                "tok.example.com": {"identitytoken": "refresh-abc"},
                "bearer.example.com": {"registrytoken": "bearer-xyz"},
            }
        },
    )
    kc = Keychain([config])
    assert kc.resolve("docker.io") == Credential("hubuser", "hub:pw")
    assert kc.resolve("reg.example.com") == Credential("u", "p")
    assert kc.resolve("tok.example.com").identity_token == "refresh-abc"
    assert kc.resolve("bearer.example.com").registry_token == "bearer-xyz"
    assert kc.resolve("other.example.com") is ANONYMOUS


def test_first_existing_config_wins(tmp_path: Path) -> None:
    first = tmp_path / "a" / "config.json"
    second = _write(tmp_path / "b" / "config.json", {"auths": {"r.io": {"auth": _b64("b:b")}}})
    kc = Keychain([first, second])
    assert kc.resolve("r.io").username == "b"
    _write(first, {"auths": {}})
    assert Keychain([first, second]).resolve("r.io") is ANONYMOUS


def test_default_paths_order(tmp_path: Path) -> None:
    env = {
        "DOCKER_CONFIG": "/kaniko/.docker/",
        "HOME": "/root",
        "REGISTRY_AUTH_FILE": "/etc/auth.json",
        "XDG_RUNTIME_DIR": "/run/user/0",
    }
    assert [str(p) for p in default_config_paths(env)] == [
        "/kaniko/.docker/config.json",
        "/root/.docker/config.json",
        "/kaniko/.docker/config.json",
        "/etc/auth.json",
        "/run/user/0/containers/auth.json",
    ]


def _helper(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_cred_helpers_and_store_run_real_executables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    # echoes the registry it was asked for in the username, to prove stdin is passed
    _helper(
        bin_dir,
        "lab",
        'read r; printf \'{"ServerURL":"%s","Username":"u-%s","Secret":"s3"}\' "$r" "$r"\n',
    )
    _helper(bin_dir, "tok", 'read r; printf \'{"Username":"<token>","Secret":"refresh"}\'\n')
    _helper(bin_dir, "store", 'echo "credentials not found in native keychain"; exit 1\n')
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    config = _write(
        tmp_path / "config.json",
        {
            "credHelpers": {"lab.example.com": "lab", "docker.io": "lab", "t.io": "tok"},
            "credsStore": "store",
            "auths": {"plain.io": {"auth": _b64("x:y")}},
        },
    )
    kc = Keychain([config])
    assert kc.resolve("lab.example.com") == Credential("u-lab.example.com", "s3")
    assert kc.resolve("index.docker.io").username == "u-https://index.docker.io/v1/"
    assert kc.resolve("t.io") == Credential(identity_token="refresh")
    # the store knows nothing of plain.io, so the auths entry is used
    assert kc.resolve("plain.io") == Credential("x", "y")
    assert kc.resolve("none.io") is ANONYMOUS


def test_failing_or_missing_helper_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    _helper(bin_dir, "broken", "echo 'backend exploded' >&2; exit 3\n")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    config = _write(tmp_path / "config.json", {"credHelpers": {"a.io": "broken", "b.io": "absent"}})
    kc = Keychain([config])
    with pytest.raises(RegistryError, match=r"docker-credential-broken failed for a\.io: backend"):
        kc.resolve("a.io")
    with pytest.raises(RegistryError, match="docker-credential-absent not found on PATH"):
        kc.resolve("b.io")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"auths": {', r"config.json:1: invalid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({"auths": {"r.io": {"auth": _b64("nocolon")}}}), "not user:password"),
    ],
)
def test_bad_config_files(tmp_path: Path, content: str, message: str) -> None:
    config = _write(tmp_path / "config.json", content)
    with pytest.raises(RegistryError, match=message):
        Keychain([config]).resolve("r.io")


def test_secrets_never_in_repr_and_registered_for_redaction(tmp_path: Path) -> None:
    cred = Credential("user", "pa55-w0rd-unique", identity_token="idt-unique-123")
    assert "pa55" not in repr(cred) and "idt-unique" not in repr(cred)
    assert redact("login pa55-w0rd-unique and idt-unique-123") == "login *** and ***"
    assert Credential().anonymous and not cred.anonymous


# -- the chain with the cloud helpers (GitLab CI's needs no network) ---------------------
CI = {
    "CI_REGISTRY": "registry.gitlab.lab.example",
    "CI_REGISTRY_USER": "gitlab-ci-token",
    "CI_REGISTRY_PASSWORD": "job-token-4f2a",
}


def test_cloud_helpers_come_after_the_docker_config(tmp_path: Path) -> None:
    helpers = (GitLabHelper(CI),)
    gitlab = "registry.gitlab.lab.example"
    assert Keychain([], helpers=helpers).resolve(gitlab) == Credential(
        "gitlab-ci-token", "job-token-4f2a"
    )
    config = _write(tmp_path / "config.json", {"auths": {gitlab: {"auth": _b64("deploy:tok")}}})
    assert Keychain([config], helpers=helpers).resolve(gitlab) == Credential("deploy", "tok")
    # an auths entry with nothing in it passes on, as go-containerregistry's multi-keychain
    empty = _write(tmp_path / "empty.json", {"auths": {gitlab: {}}})
    assert Keychain([empty], helpers=helpers).resolve(gitlab).username == "gitlab-ci-token"
    assert Keychain([], helpers=()).resolve(gitlab) is ANONYMOUS
    assert redact("job-token-4f2a") == "***"


def test_a_helper_that_finds_nothing_passes_on_to_the_cloud_helpers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    _helper(bin_dir, "none", 'echo "credentials not found in native keychain"; exit 1\n')
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    gitlab = "registry.gitlab.lab.example"
    config = _write(tmp_path / "config.json", {"credHelpers": {gitlab: "none"}})
    found = Keychain([config], helpers=(GitLabHelper(CI),)).resolve(gitlab)
    assert found.password == "job-token-4f2a"


def test_helper_names_resolved_in_process_without_executables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker-credential-* anywhere
    gitlab = "registry.gitlab.lab.example"
    config = _write(
        tmp_path / "config.json",
        {"credHelpers": {gitlab: "gitlabci", "lab.azurecr.io": "acr-env", "elsewhere.io": "gcr"}},
    )
    kc = Keychain([config], helpers=(GitLabHelper(CI),))
    assert kc.resolve(gitlab).username == "gitlab-ci-token"
    # acr-env is not among this keychain's helpers: its executable is looked for
    with pytest.raises(RegistryError, match="docker-credential-acr-env not found"):
        kc.resolve("lab.azurecr.io")
    full = Keychain([config], environ=CI)
    assert full.resolve(gitlab).username == "gitlab-ci-token"
    # gcr named for a host Google does not own: nothing, said in the explanation
    assert full.resolve("elsewhere.io") is ANONYMOUS
    assert "credential helper gcr serves only Google registries" in full.explain("elsewhere.io")


def test_invalidate_and_explain(tmp_path: Path) -> None:
    gitlab = "registry.gitlab.lab.example"
    config = _write(tmp_path / "config.json", {"auths": {"static.io": {"auth": _b64("a:b")}}})
    kc = Keychain([config], helpers=(GitLabHelper(CI),))
    assert kc.resolve("static.io").username == "a"
    assert kc.explain("static.io") == f"credentials from {config} (auths)"
    assert not kc.invalidate("static.io")  # asking the file again gives the same
    first = kc.resolve(gitlab)
    assert kc.resolve(gitlab) is first  # cached
    assert (
        kc.explain(gitlab) == "credentials from the gitlab-ci helper (in-process, CI_REGISTRY_USER)"
    )
    assert kc.invalidate(gitlab) and kc.resolve(gitlab) is not first
    assert kc.resolve("other.io") is ANONYMOUS
    assert kc.explain("other.io") == f"no credentials for other.io ({config})"
    bare = Keychain([], helpers=(GitLabHelper({"CI_REGISTRY": gitlab}),))
    assert bare.resolve(gitlab) is ANONYMOUS
    assert bare.explain(gitlab) == (
        "no credentials: the gitlab-ci helper found none: CI_REGISTRY names "
        f"{gitlab}, but CI_REGISTRY_USER and CI_REGISTRY_PASSWORD are unset"
    )
