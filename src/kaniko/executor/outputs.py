"""Where a built image goes: registries, a docker tarball, an OCI layout, digest files."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kaniko.executor.digestfiles import write_digest_files
from kaniko.images.index import ImageIndex
from kaniko.images.layout import write_oci_layout, write_oci_layout_index
from kaniko.images.push import push, push_index
from kaniko.images.tarball import write_docker_tarball
from kaniko.images.tarball_index import write_index_tarball
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image
from kaniko.options import OutputOptions
from kaniko.progress import SILENT, Reporter
from kaniko.refs.reference import Reference
from kaniko.registry.transport import Transport

log = logging.getLogger(__name__)


def write_outputs(
    image: Image,
    destinations: Sequence[Reference],
    output: OutputOptions,
    transport: Transport,
    progress: Reporter = SILENT,
    *,
    index: ImageIndex | None = None,
) -> Digest:
    """Push and write everything ``output`` asks for; returns the pushed digest.

    With ``index`` (an image with attestations) the index is what every sink gets and
    its digest is the one returned and written to the digest files, as BuildKit reports
    ``containerimage.digest``.
    """
    digest = index.digest() if index is not None else image.digest()
    if output.tar_path:
        tags = [str(d) for d in destinations] or ["image:latest"]
        if index is not None:
            write_index_tarball(index, output.tar_path, tags)
        else:
            write_docker_tarball(image, output.tar_path, tags)
        log.info("Wrote docker tarball %s", output.tar_path)
    if output.oci_layout_path:
        ref_name = destinations[0].tag if destinations and destinations[0].tag else None
        if index is not None:
            write_oci_layout_index(index, output.oci_layout_path, ref_name)
        else:
            write_oci_layout(image, output.oci_layout_path, ref_name)
        log.info("Wrote OCI layout %s", output.oci_layout_path)
    if output.no_push:
        log.info("Skipping push to container registry due to --no-push flag")
    elif destinations:
        push_item = push if index is None else push_index
        push_item(
            transport,
            image if index is None else index,  # type: ignore[arg-type]
            destinations,
            retries=output.push_retry,
            ignore_immutable_tags=output.push_ignore_immutable_tag_errors,
            progress=progress,
        )
    write_digest_files(
        digest,
        [str(d) for d in destinations],
        digest_file=output.digest_file,
        name_file=output.image_name_with_digest_file,
        name_tag_file=output.image_name_tag_with_digest_file,
    )
    return digest
