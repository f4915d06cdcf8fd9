"""`make demo`: start a registry, make a base image, build examples/hello, push, run.

Everything runs on this machine: the CNCF distribution registry on a free loopback port,
a busybox base image made from Debian's busybox-static, kaniko building and pushing the
example, `skopeo inspect` reading it back and `crun` running it. The registry and the
scratch files are removed at the end.
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
from tests.lab.images import busybox_rootfs, layer_from_dir, make_image, push_raw  # noqa: E402
from tests.lab.registry import start_registry  # noqa: E402


def step(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m", flush=True)


def main() -> int:
    import httpx

    from kaniko.oci.platform import Platform

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

        step("building examples/hello with kaniko and pushing it")
        dest = f"{registry.host}/demo/hello:latest"
        kaniko = [
            str(REPO / ".venv" / "bin" / "kaniko"),
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
    sys.exit(main())
