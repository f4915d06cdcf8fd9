"""`make demo`: start a registry, make a base image, build examples/hello, push, run.

Everything runs on this machine: the CNCF distribution registry on a free loopback port,
a busybox base image made from Debian's busybox-static, kaniko building and pushing the
example, `skopeo inspect` reading it back and `crun` running it. The registry and the
scratch files are removed at the end.

`make demo-pod` (``--pod``) builds the example inside a simulated Kubernetes pod instead:
kaniko first builds its own executor image (deploy/Dockerfile, on a Debian base made with
debootstrap and cached), which then runs under crun with a default pod's capabilities and
seccomp profile, the example's context mounted read-only at /workspace, building in place.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.lab.crun import run_image  # noqa: E402
from tests.lab.debian import debian_rootfs_layer  # noqa: E402
from tests.lab.executor import executor_build_args  # noqa: E402
from tests.lab.images import busybox_rootfs, layer_from_dir, make_image, push_raw  # noqa: E402
from tests.lab.registry import Registry, start_registry  # noqa: E402

from kaniko.oci.platform import Platform  # noqa: E402


def step(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m", flush=True)


KANIKO = REPO / ".venv" / "bin" / "kaniko"


def build_in_pod(registry: Registry, base: str, dest: str, host: Platform) -> None:
    import httpx
    from tests.e2e.pod.runtime import Volume, run_pod

    step("making a Debian base for the executor image's builder stage (debootstrap, cached)")
    layer = debian_rootfs_layer().read_bytes()
    debian = f"{registry.host}/library/debian:bookworm"
    with httpx.Client(timeout=120) as client:
        image = make_image([layer], arch=host.architecture, variant=host.variant)
        push_raw(client, registry.url, "library/debian", "bookworm", image)

    step("building the executor image (deploy/Dockerfile) with kaniko on the host")
    executor = f"{registry.host}/kaniko/executor:demo"
    argv = [str(KANIKO), "--dockerfile", str(REPO / "deploy/Dockerfile"), "--context",
            str(REPO), "--destination", executor, "--reproducible"]  # fmt: skip
    for name, value in executor_build_args(debian):
        argv += ["--build-arg", f"{name}={value}"]
    subprocess.run(argv, check=True)

    step("building examples/hello inside a simulated pod (no privilege, default seccomp)")
    inside = ["/kaniko/executor", "--dockerfile", "/workspace/Dockerfile",
              "--context", "/workspace", "--build-arg", f"BASE={base}",
              "--destination", dest]  # fmt: skip
    print("$ " + " ".join(inside))
    done = run_pod(executor, inside, [Volume(REPO / "examples/hello", "/workspace")])
    print(done.stdout + done.stderr, end="")
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, inside)


def main(pod: bool = False) -> int:
    import httpx

    work = Path(tempfile.mkdtemp(prefix="kaniko-demo-"))
    registry = None
    try:
        step("starting a registry (docker-registry) on a free loopback port")
        registry = start_registry(work / "registry")
        print(f"registry at {registry.url}")

        step("making the busybox base image and pushing it")
        host = Platform.host()
        layer = layer_from_dir(busybox_rootfs(work / "busybox"))
        base = f"{registry.host}/library/busybox:latest"
        with httpx.Client(timeout=60) as client:
            image = make_image([layer], arch=host.architecture, variant=host.variant)
            push_raw(client, registry.url, "library/busybox", "latest", image)
        print(f"pushed {base}")

        dest = f"{registry.host}/demo/hello:latest"
        if pod:
            build_in_pod(registry, base, dest, host)
        else:
            step("building examples/hello with kaniko and pushing it")
            kaniko = [
                str(KANIKO),
                "--dockerfile", str(REPO / "examples/hello/Dockerfile"),
                "--context", str(REPO / "examples/hello"),
                "--build-arg", f"BASE={base}",
                "--destination", dest,
            ]  # fmt: skip
            print("$ " + " ".join(kaniko))
            subprocess.run(kaniko, check=True)

        step("reading it back with skopeo inspect")
        out = subprocess.run(
            ["skopeo", "inspect", "--tls-verify=false", f"docker://{dest}"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        info = json.loads(out)
        print(json.dumps({k: info[k] for k in ("Name", "Digest", "Architecture", "Layers")},
                         indent=2))  # fmt: skip

        step("running it with crun")
        done = run_image(dest)
        print(done.stdout, end="")
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        step("done")
        return 0
    except subprocess.CalledProcessError as e:
        print(f"demo failed: {' '.join(map(str, e.cmd))} exited {e.returncode}", file=sys.stderr)
        return 1
    finally:
        if registry is not None:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(pod="--pod" in sys.argv[1:]))
