"""--digest-file and the image-name files, formatted as the Go kaniko writes them."""

from __future__ import annotations

import os
import stat
import sys

import httpx
import pytest

from kaniko.errors import FilesystemError, ImageError
from kaniko.executor.digestfiles import image_name_lines, write_digest_files
from tests.images.helpers import sha

DIGEST = sha(b"manifest")
DESTINATIONS = ["ubuntu", "localhost:5000/app:v1", "docker.io/me/app:2", "gcr.io/p/app"]


def test_name_lines_are_fully_qualified() -> None:
    assert image_name_lines(DESTINATIONS, DIGEST, with_tag=False) == (
        f"index.docker.io/library/ubuntu@{DIGEST}\n"
        f"localhost:5000/app@{DIGEST}\n"
        f"index.docker.io/me/app@{DIGEST}\n"
        f"gcr.io/p/app@{DIGEST}\n"
    )
    assert image_name_lines(DESTINATIONS, DIGEST, with_tag=True) == (
        f"index.docker.io/library/ubuntu:latest@{DIGEST}\n"
        f"localhost:5000/app:v1@{DIGEST}\n"
        f"index.docker.io/me/app:2@{DIGEST}\n"
        f"gcr.io/p/app:latest@{DIGEST}\n"
    )


def test_destinations_must_be_tags() -> None:
    with pytest.raises(ImageError, match="must be a tag, not a digest"):
        image_name_lines([f"app@{DIGEST}"], DIGEST, with_tag=False)
    with pytest.raises(ImageError, match="invalid image reference"):
        image_name_lines(["not valid!"], DIGEST, with_tag=False)


def test_files_are_written_with_parents(tmp_path) -> None:
    digest_file = tmp_path / "new" / "dir" / "digest"
    name_file = tmp_path / "names"
    tag_file = tmp_path / "tags"
    write_digest_files(
        DIGEST,
        DESTINATIONS[:2],
        digest_file=str(digest_file),
        name_file=str(name_file),
        name_tag_file=str(tag_file),
    )
    assert digest_file.read_bytes() == str(DIGEST).encode()  # no newline, like kaniko
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(digest_file).st_mode) == 0o644
    assert name_file.read_text() == (
        f"index.docker.io/library/ubuntu@{DIGEST}\nlocalhost:5000/app@{DIGEST}\n"
    )
    assert tag_file.read_text() == (
        f"index.docker.io/library/ubuntu:latest@{DIGEST}\nlocalhost:5000/app:v1@{DIGEST}\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["names", "new", "tags"]  # no temporary files left


def test_https_paths_are_put(tmp_path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(403 if "denied" in request.url.path else 200)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    url = "https://bucket.example/out/digest?X-Signature=secret"
    write_digest_files(DIGEST, [], digest_file=url, client=client)
    assert [(r.method, str(r.url), r.content) for r in seen] == [("PUT", url, str(DIGEST).encode())]
    assert seen[0].headers["content-type"] == "text/plain"
    with pytest.raises(FilesystemError, match="answered HTTP 403") as failure:
        write_digest_files(
            DIGEST, ["a"], name_file="https://bucket.example/denied?sig=secret", client=client
        )
    assert "secret" not in str(failure.value)


def test_digest_file_on_a_mount_point_is_written_in_place(tmp_path) -> None:
    """Renaming over a bind-mounted file fails with EBUSY, as for /dev/termination-log."""
    import subprocess

    from kaniko.fs.atomic import write_atomic

    target = tmp_path / "termination-log"
    target.write_text("")
    source = tmp_path / "host-file"
    source.write_text("old")
    script = (
        f"mount --bind {source} {target} && "
        f"{sys.executable} -c 'from kaniko.fs.atomic import write_atomic; "
        f'write_atomic("{target}", b"sha256:abc")\' && cat {target}'
    )
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and "Operation not permitted" in done.stderr:
        pytest.skip("bind mounts are not permitted here")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "sha256:abc"
    assert source.read_text() == "sha256:abc"  # written through the mount
    write_atomic(str(tmp_path / "plain"), b"x")  # the normal path still renames
    assert not list(tmp_path.glob(".plain.*"))
