"""Run an image from a lab registry with crun, to prove that it starts and works.

The image goes through tools that are not ours: ``skopeo copy docker://REF oci:DIR:tag``,
``umoci unpack`` into an OCI runtime bundle, then ``crun run``. The bundle's config is
adjusted for a test: no terminal, the host's network (no network namespace), optional
argv. crun 1.8 refuses a hybrid cgroup layout (cgroup v1 controllers plus cgroup2 at
``/sys/fs/cgroup/unified``), so where that mount exists crun runs inside
``unshare --mount --propagation private`` with it unmounted there only.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.lab.flatten import LabToolError, run_tool
from tests.lab.tools import require_tool

HYBRID_CGROUP2 = "/sys/fs/cgroup/unified"


def _mount_points() -> set[str]:
    with open("/proc/self/mountinfo") as f:
        return {line.split()[4] for line in f}


def crun_argv(state: Path, *args: str) -> list[str]:
    """argv that runs ``crun --root STATE ARGS`` where crun accepts the cgroup layout."""
    crun = [require_tool("crun"), "--root", str(state), *args]
    if HYBRID_CGROUP2 not in _mount_points():
        return crun
    unshare = require_tool("unshare")
    script = f'umount {HYBRID_CGROUP2} && exec "$@"'
    return [unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh", *crun]


def unpack_bundle(
    ref: str,
    directory: Path,
    argv: Sequence[str] | None = None,
    *,
    binds: Sequence[tuple[Path | str, str]] = (),
) -> Path:
    """Fetch ``ref`` and unpack it with umoci into an OCI runtime bundle; return its path.

    ``binds`` are ``(host path, container path)`` pairs bind-mounted read-write.
    """
    layout, bundle = directory / "layout", directory / "bundle"
    run_tool(
        [require_tool("skopeo"), "--insecure-policy", "copy", "-q", "--src-tls-verify=false",
         f"docker://{ref}", f"oci:{layout}:image"],
        timeout=300,
        what="skopeo copy",
    )  # fmt: skip
    run_tool(
        [require_tool("umoci"), "unpack", "--image", f"{layout}:image", str(bundle)],
        timeout=300,
        what="umoci unpack",
    )
    config_path = bundle / "config.json"
    spec = json.loads(config_path.read_text())
    spec["process"]["terminal"] = False
    if argv is not None:
        spec["process"]["args"] = list(argv)
    if not spec["process"].get("args"):
        raise LabToolError(f"{ref} has neither Entrypoint nor Cmd: pass argv to run it")
    namespaces = spec["linux"].get("namespaces", [])
    spec["linux"]["namespaces"] = [ns for ns in namespaces if ns["type"] != "network"]
    for source, destination in binds:
        spec["mounts"].append(
            {"destination": destination, "type": "bind", "source": str(Path(source).resolve()),
             "options": ["rbind", "rw"]}
        )  # fmt: skip
    config_path.write_text(json.dumps(spec, indent=1))
    return bundle


def run_image(
    ref: str,
    argv: Sequence[str] | None = None,
    *,
    timeout: float = 60.0,
    binds: Sequence[tuple[Path | str, str]] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``ref`` (its Entrypoint/Cmd, or ``argv``) and return its exit code and output.

    ``binds``: ``(host path, container path)`` pairs to bind-mount read-write.

    A non-zero exit is returned, not raised; a run past ``timeout`` seconds is killed and
    raises ``LabToolError``.
    """
    with tempfile.TemporaryDirectory(prefix="kaniko-crun-") as tmp:
        directory = Path(tmp)
        bundle = unpack_bundle(ref, directory, argv, binds=binds)
        return run_bundle(bundle, directory / "state", timeout=timeout, what=f"crun run of {ref}")


def run_bundle(
    bundle: Path,
    state: Path,
    *,
    timeout: float,
    what: str,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``crun run`` an unpacked bundle with its state under ``state``; output captured.

    A non-zero exit is returned; past ``timeout`` seconds the container is deleted by force
    and ``LabToolError`` names ``what``.
    """
    state.mkdir(parents=True, exist_ok=True)
    name = f"lab-{uuid.uuid4().hex[:12]}"
    try:
        return subprocess.run(
            crun_argv(state, "run", "--bundle", str(bundle), name),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
            env=None if env is None else dict(env),
        )
    except subprocess.TimeoutExpired as exc:
        delete = crun_argv(state, "delete", "--force", name)
        subprocess.run(delete, capture_output=True, check=False)
        raise LabToolError(f"{what} timed out after {timeout:.0f}s") from exc
