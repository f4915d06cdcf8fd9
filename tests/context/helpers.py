"""Helpers of the context tests: make archives, build from a context, read the image back.

A build here is ``FROM scratch`` + ``COPY . /ctx/`` written to an OCI layout (no registry,
no base image), so each source test costs its fetch and little else; the layout is read
back with :mod:`tarfile` by :func:`image_files`.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path

from kaniko.executor.executor import build
from kaniko.options import BuildOptions, GitOptions, OutputOptions

DOCKERFILE = "FROM scratch\nCOPY . /ctx/\n"


def context_files(extra: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
    """A small context: a Dockerfile, a file and a nested file."""
    files = {
        "Dockerfile": DOCKERFILE.encode(),
        "hello.txt": b"hello\n",
        "sub/dir/deep.txt": b"deep",
    }
    files.update(extra or {})
    return files


def make_tar(
    files: Mapping[str, bytes],
    *,
    mode: str = "w:gz",
    symlinks: Mapping[str, str] | None = None,
    links_first: bool = False,
) -> bytes:
    """A tar archive (``mode``: w, w:gz, w:xz, w:bz2) of ``files`` and ``symlinks``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:

        def add_links() -> None:
            for name, target in (symlinks or {}).items():
                info = tarfile.TarInfo(name)
                info.type, info.linkname = tarfile.SYMTYPE, target
                tar.addfile(info)

        if links_first:
            add_links()
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        if not links_first:
            add_links()
    return buffer.getvalue()


def zstd_tar(files: Mapping[str, bytes]) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(make_tar(files, mode="w"))


def build_context(
    context: str,
    layout: Path,
    *,
    dockerfile: str = "Dockerfile",
    sub_path: str = "",
    git: GitOptions | None = None,
    kaniko_dir: Path | None = None,
    bucket: str = "",
    size_limit: int | None = None,
) -> dict[str, bytes]:
    """Build ``context`` (its own Dockerfile) into ``layout``; the files under /ctx."""
    extra = {} if size_limit is None else {"context_size_limit": size_limit}
    options = BuildOptions(
        dockerfile=dockerfile,
        context=context,
        context_sub_path=sub_path,
        bucket=bucket,
        git=git or GitOptions(),
        kaniko_dir=str(kaniko_dir or layout.parent / "kaniko"),
        output=OutputOptions(no_push=True, oci_layout_path=str(layout)),
        **extra,
    )
    build(options)
    return image_files(layout)


def image_files(layout: Path) -> dict[str, bytes]:
    """Regular files (path -> content) and symlinks (path -> b'-> target') under /ctx."""

    def blob(digest: str) -> bytes:
        return (layout / "blobs" / Path(*digest.split(":", 1))).read_bytes()

    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(blob(index["manifests"][-1]["digest"]))
    files: dict[str, bytes] = {}
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(layer["digest"])))) as tar:
            for member in tar:
                name = member.name.lstrip("./").removeprefix("ctx/")
                if not member.name.lstrip("./").startswith("ctx/"):
                    continue
                if member.isfile():
                    files[name] = tar.extractfile(member).read()  # type: ignore[union-attr]
                elif member.issym():
                    files[name] = b"-> " + member.linkname.encode()
    return files
