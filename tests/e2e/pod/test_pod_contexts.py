"""Remote contexts inside the executor image, run by crun as a default pod: an S3 object
(moto on loopback, IAM enforced) and a private git repository (git http-backend with a
token), each built and pushed to the TLS + Bearer-token registry. The pod has no
``/workspace`` volume: the context comes only from the source."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.context.helpers import make_tar
from tests.e2e.pod.conftest import PodImage, PodSecrets
from tests.e2e.pod.runtime import run_pod
from tests.lab.flatten import flatten
from tests.lab.gitserver import git, git_http, make_repo
from tests.lab.objectstores import s3_user_and_bucket, start_moto
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e

DOCKERFILE = "FROM scratch\nCOPY . /ctx/\n"
TOKEN = "pod-git-token-81d3"
# A pod has no cloud metadata service to fall back on; keep the chains off link-local
# addresses (the lab never reaches past loopback).
QUIET = {"AWS_EC2_METADATA_DISABLED": "true", "NO_GCE_CHECK": "true"}


def _pod_build(
    image: PodImage, secrets: PodSecrets, registry: Registry, repo: str, context: str, env
) -> str:
    argv = [
        "/kaniko/executor",
        f"--context={context}",
        f"--destination={registry.host}/{repo}",
        f"--registry-certificate={registry.host}={secrets.ca_path}",
    ]
    done = run_pod(image.ref, argv, list(secrets.volumes), env={**QUIET, **env})
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}\n{log[-4000:]}"
    assert "Built image sha256:" in log
    return log


@pytest.fixture(scope="module")
def pod_moto(tmp_path_factory) -> Iterator[dict[str, str]]:
    server = start_moto(tmp_path_factory.mktemp("pod-moto"), auth_after=3)
    archive = make_tar({"Dockerfile": DOCKERFILE.encode(), "from-s3.txt": b"an S3 context\n"})
    yield s3_user_and_bucket(server, "pod-contexts", {"app/context.tar.gz": archive})
    server.stop()


def test_s3_context_in_a_pod(
    pod_image: PodImage, pod_secrets: PodSecrets, registry_token: Registry, pod_moto
) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": pod_moto["id"],
        "AWS_SECRET_ACCESS_KEY": pod_moto["secret"],
        "AWS_REGION": "us-east-1",
        "S3_ENDPOINT": pod_moto["url"],
        "S3_FORCE_PATH_STYLE": "true",
    }
    repo = "public/pod-s3-context:latest"
    log = _pod_build(
        pod_image, pod_secrets, registry_token, repo, "s3://pod-contexts/app/context.tar.gz", env
    )
    assert pod_moto["secret"] not in log
    tree = flatten(f"{registry_token.host}/{repo}")
    assert tree["/ctx/from-s3.txt"].data == b"an S3 context\n"


def test_private_git_context_in_a_pod(
    pod_image: PodImage, pod_secrets: PodSecrets, registry_token: Registry, tmp_path
) -> None:
    root, work = tmp_path / "repos", tmp_path / "work"
    _bare, tree = make_repo(root, "private/app.git", work)
    (tree / "Dockerfile").write_text(DOCKERFILE)
    (tree / "web").mkdir()
    (tree / "web" / "Dockerfile").write_text(DOCKERFILE)
    (tree / "web" / "page.html").write_text("<p>from git</p>\n")
    git("add", "-A", cwd=tree)
    git("commit", "-q", "-m", "app", cwd=tree)
    git("push", "-q", "origin", "main", cwd=tree)
    with git_http(root, token=TOKEN) as server:
        hostpath = server.url.removeprefix("http://")
        context = f"git://{hostpath}/private/app.git#refs/heads/main"
        env = {"GIT_TOKEN": TOKEN, "GIT_PULL_METHOD": "http"}
        repo = "public/pod-git-context:latest"
        argv_context = f"{context}"
        log = _pod_build(pod_image, pod_secrets, registry_token, repo, argv_context, env)
    assert TOKEN not in log
    tree_built = flatten(f"{registry_token.host}/{repo}")
    assert tree_built["/ctx/web/page.html"].data == b"<p>from git</p>\n"
    assert "/ctx/.git" not in tree_built
