"""A hostile RUN in a default Kubernetes pod with ``--isolation=chroot`` (a plain chroot).

The pod (tests/e2e/pod: containerd's capabilities and seccomp profile, no mounts) runs
the executor image as pid 1, holding the registry credentials in
``/kaniko/.docker/config.json``. Without a mount namespace a RUN's root is a chroot(2)
only, so CAP_SYS_CHROOT is withheld (the double-chroot escape needs it), and the RUN's
capabilities are then a strict subset of the executor's, so it cannot ptrace it.
"""

from __future__ import annotations

import errno
import json

import pytest

from tests.e2e.pod.runtime import SECCOMP_PROFILE, Volume, run_pod
from tests.lab.executor import ExecutorImage
from tests.lab.registry import Registry
from tests.lab.tools import require_tool
from tests.security.conftest import parse_results, write_probes
from tests.security.helpers import require_x86_64

pytestmark = pytest.mark.e2e

CREDENTIALS = "/kaniko/.docker/config.json"
DOCKERFILE = """\
FROM {base}
COPY probes/ /probes/
RUN /probes/double-chroot; echo "RESULT double-chroot $?"; rmdir /.kaniko-escape || true
RUN /probes/ptrace 1; echo "RESULT ptrace-executor $?"
RUN if [ -d /proc/self ]; then echo "RESULT proc yes"; else echo "RESULT proc no"; fi; \\
    if [ -e {credentials} ]; then echo "RESULT credentials visible"; \\
    else echo "RESULT credentials hidden"; fi
RUN echo "RESULT done yes"
"""


@pytest.fixture(scope="module")
def pod_escapes(
    executor_build: ExecutorImage,
    base_images: dict[str, str],
    registry_plain: Registry,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, str], str]:
    require_x86_64()
    for tool in ("crun", "umoci", "skopeo"):
        require_tool(tool)
    if not SECCOMP_PROFILE.is_file():
        pytest.skip(f"{SECCOMP_PROFILE} is missing")
    directory = tmp_path_factory.mktemp("pod-escapes")
    context, docker = directory / "context", directory / "docker"
    context.mkdir()
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"auths": {"example": {"auth": "c2VjcmV0"}}}))
    write_probes(context / "probes", CREDENTIALS)
    dockerfile = DOCKERFILE.format(base=base_images["busybox"], credentials=CREDENTIALS)
    (context / "Dockerfile").write_text(dockerfile)
    argv = [
        "/kaniko/executor", "--context=/workspace", "--no-push", "--isolation=chroot",
        f"--insecure-registry={registry_plain.host}", "--log-format=text",
    ]  # fmt: skip
    volumes = [Volume(context, "/workspace"), Volume(docker, "/kaniko/.docker")]
    done = run_pod(executor_build.ref, argv, volumes)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-6000:]
    results = parse_results(log)
    assert results.get("done") == "yes", log[-6000:]
    return results, log


def test_a_plain_chroot_cannot_be_climbed_out_of(pod_escapes) -> None:
    results, log = pod_escapes
    assert results["proc"] == "no"  # no mounts in the pod: a plain chroot
    assert results["credentials"] == "hidden"
    assert results["double-chroot"] == str(errno.ENOENT), log[-3000:]


def test_the_executor_cannot_be_traced(pod_escapes) -> None:
    results, log = pod_escapes
    assert results["ptrace-executor"] == str(errno.EPERM), log[-3000:]


def test_one_warning_says_why(pod_escapes) -> None:
    _, log = pod_escapes
    assert log.count("mounts are not permitted here") == 1
    assert "without CAP_SYS_CHROOT" in log
