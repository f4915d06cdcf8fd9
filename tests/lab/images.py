"""Base images the lab makes itself, pushed with raw HTTP (independent of our client).

- ``busybox``: the static busybox from Debian's busybox-static, one symlink per applet,
  ``/etc/passwd`` and ``/etc/group`` with root and nobody;
- a multi-platform index: one image per architecture plus an ``unknown/unknown``
  attestation-like entry, as BuildKit pushes them.

Everything here is written with the standard library and httpx only, so a bug in
kaniko's image model cannot hide behind an identical bug in the lab.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.lab.tools import require_tool

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
FIXED_TIME = "2024-01-01T00:00:00Z"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def busybox_rootfs(root: Path, busybox: Path | None = None) -> Path:
    """Lay out a busybox root filesystem in ``root`` (``busybox``: the binary to copy,
    default the host's; its applets are listed by the host's, the same package)."""
    host_busybox = Path(require_tool("busybox")).resolve()
    busybox = busybox or host_busybox
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "tmp", "var", "home"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "root").chmod(0o700)
    shutil.copy2(busybox, root / "bin" / "busybox")
    (root / "bin" / "busybox").chmod(0o755)
    applets = subprocess.run(
        [str(host_busybox), "--list-full"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        if applet == "bin/busybox":
            continue  # a symlink to itself would replace the binary
        link = root / applet
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists() and not link.is_symlink():
            link.symlink_to("/bin/busybox")
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    return root


def tar_of_dir(root: Path) -> bytes:
    """A tar of ``root``'s tree: sorted, numeric root ownership, fixed times."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(root)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 1704067200
            if info.isfile():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    return buffer.getvalue()


def layer_from_dir(root: Path) -> bytes:
    """A gzip layer of ``root``'s tree (see :func:`tar_of_dir`)."""
    return gzip.compress(tar_of_dir(root), mtime=0)


@dataclass
class BuiltImage:
    """An image as blobs: what a registry stores."""

    manifest: bytes
    media_type: str
    blobs: dict[str, bytes]

    @property
    def digest(self) -> str:
        return sha256(self.manifest)


def make_image(
    layers: list[bytes],
    *,
    arch: str = "amd64",
    variant: str = "",
    oci: bool = False,
    config: dict | None = None,
    diff_ids: list[str] | None = None,
) -> BuiltImage:
    """Config and manifest for gzip ``layers`` (``diff_ids`` replaces the true ones)."""
    if diff_ids is None:
        diff_ids = [sha256(gzip.decompress(layer)) for layer in layers]
    document: dict = {
        "architecture": arch,
        "os": "linux",
        "created": FIXED_TIME,
        "config": config if config is not None else {"Env": [PATH_ENV], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": FIXED_TIME, "created_by": "lab layer"} for _ in layers],
    }
    if variant:
        document["variant"] = variant
    config_bytes = json.dumps(document, separators=(",", ":")).encode()
    layer_type = OCI_LAYER if oci else DOCKER_LAYER
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
            "digest": sha256(config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {"mediaType": layer_type, "digest": sha256(layer), "size": len(layer)}
            for layer in layers
        ],
    }
    blobs = {sha256(b): b for b in [config_bytes, *layers]}
    return BuiltImage(
        json.dumps(manifest).encode(), OCI_MANIFEST if oci else DOCKER_MANIFEST, blobs
    )


def make_index(entries: list[tuple[BuiltImage, dict]], *, oci: bool = True) -> BuiltImage:
    """An index of ``entries`` (image, platform dict)."""
    manifests = []
    blobs: dict[str, bytes] = {}
    for image, platform in entries:
        blobs.update(image.blobs)
        entry = {
            "mediaType": image.media_type,
            "digest": image.digest,
            "size": len(image.manifest),
            "platform": platform,
        }
        if platform.get("os") == "unknown":
            entry["annotations"] = {
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": entries[0][0].digest,
            }
        manifests.append(entry)
    media_type = OCI_INDEX if oci else DOCKER_LIST
    document = {"schemaVersion": 2, "mediaType": media_type, "manifests": manifests}
    return BuiltImage(json.dumps(document).encode(), media_type, blobs)


def push_raw(
    client: httpx.Client,
    base_url: str,
    repo: str,
    tag: str,
    image: BuiltImage,
    children: list[BuiltImage] = (),
) -> None:
    """Push blobs, child manifests (by digest) and the manifest under ``tag``."""
    for digest, data in image.blobs.items():
        if client.head(f"{base_url}/v2/{repo}/blobs/{digest}").status_code == 200:
            continue
        r = client.post(f"{base_url}/v2/{repo}/blobs/uploads/")
        r.raise_for_status()
        location = httpx.URL(base_url).join(r.headers["Location"]).copy_add_param("digest", digest)
        client.put(location, content=data).raise_for_status()
    for child in children:
        client.put(
            f"{base_url}/v2/{repo}/manifests/{child.digest}",
            content=child.manifest,
            headers={"Content-Type": child.media_type},
        ).raise_for_status()
    client.put(
        f"{base_url}/v2/{repo}/manifests/{tag}",
        content=image.manifest,
        headers={"Content-Type": image.media_type},
    ).raise_for_status()
