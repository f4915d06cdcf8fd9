"""ADD of http(s) URLs, served by a real HTTP server on a free loopback port."""

from __future__ import annotations

import email.utils
import hashlib
import http.server
import io
import os
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kaniko.errors import BuildError
from tests.executor.helpers import F, add, check, make_root, run

LAST_MODIFIED = 1_300_000_000  # whole seconds: HTTP dates have no fraction
BODY = b"downloaded content\n"


def _tarball() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("inside.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"IN"))
    return out.getvalue()


FILES = {"/file.txt": BODY, "/dir/app.tar.gz": _tarball(), "/": b"<index>"}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/file.txt")
            self.end_headers()
            return
        if path not in FILES:
            self.send_error(404, "Not Found")
            return
        body = FILES[path]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if path != "/":
            stamp = email.utils.formatdate(LAST_MODIFIED, usegmt=True)
            self.send_header("Last-Modified", stamp)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    (tmp_path / "ctx").mkdir()
    return tmp_path / "ctx"


def test_download_into_directory(server: str, ctx: Path, tmp_path: Path, client) -> None:
    root = make_root(tmp_path)
    written = run(add(f"{server}/file.txt", "/dl/"), ctx, root, http=client)
    check(root, "/dl/file.txt", F(BODY.decode(), 0o600, (0, 0), LAST_MODIFIED * 10**9))
    assert written == ["/dl", "/dl/file.txt"]


def test_download_to_named_file_and_existing_dir(
    server: str, ctx: Path, tmp_path: Path, client
) -> None:
    root = make_root(tmp_path)
    run(add(f"{server}/file.txt", "/named"), ctx, root, http=client)
    run(add(f"{server}/file.txt", "/existing_dir"), ctx, root, http=client)
    check(root, "/named", F(BODY.decode()))
    check(root, "/existing_dir/file.txt", F(BODY.decode()))


def test_chmod_chown_and_own_client(server: str, ctx: Path, tmp_path: Path) -> None:
    root = make_root(tmp_path)
    run(add(f"{server}/file.txt", "/bin/", chmod="755", chown="app"), ctx, root, http=None)
    check(root, "/bin/file.txt", F(BODY.decode(), 0o755, (1000, 1000)))


def test_404_fails_and_writes_nothing(server: str, ctx: Path, tmp_path: Path, client) -> None:
    root = make_root(tmp_path)
    with pytest.raises(BuildError) as info:
        run(add(f"{server}/file.txt", f"{server}/missing", "/dl/"), ctx, root, http=client)
    assert str(info.value) == f"ADD {server}/missing: 404 Not Found"
    assert not (root / "dl").exists()


def test_checksum_ok(server: str, ctx: Path, tmp_path: Path, client) -> None:
    root = make_root(tmp_path)
    digest = "sha256:" + hashlib.sha256(BODY).hexdigest()
    run(add(f"{server}/file.txt", "/c", checksum=digest), ctx, root, http=client)
    check(root, "/c", F(BODY.decode()))


def test_checksum_mismatch(server: str, ctx: Path, tmp_path: Path, client) -> None:
    root = make_root(tmp_path)
    wrong = "sha256:" + "ab" * 32
    with pytest.raises(BuildError) as info:
        run(add(f"{server}/file.txt", "/c", checksum=wrong), ctx, root, http=client)
    actual = "sha256:" + hashlib.sha256(BODY).hexdigest()
    assert f"checksum mismatch: expected {wrong}, got {actual}" in str(info.value)
    assert not (root / "c").exists()


def test_remote_archives_are_not_extracted_unless_asked(
    server: str, ctx: Path, tmp_path: Path, client
) -> None:
    root = make_root(tmp_path)
    run(add(f"{server}/dir/app.tar.gz", "/keep/"), ctx, root, http=client)
    assert (root / "keep" / "app.tar.gz").read_bytes() == FILES["/dir/app.tar.gz"]
    run(add(f"{server}/dir/app.tar.gz", "/unpacked/", unpack=True), ctx, root, http=client)
    check(root, "/unpacked/inside.txt", F("IN"))


def test_redirect_and_unnamed(server: str, ctx: Path, tmp_path: Path, client) -> None:
    root = make_root(tmp_path)
    run(add(f"{server}/redirect", "/r/"), ctx, root, http=client)
    run(add(f"{server}/", "/u/"), ctx, root, http=client)
    check(root, "/r/redirect", F(BODY.decode()))
    check(root, "/u/__unnamed__", F("<index>"))
    assert os.lstat(root / "u" / "__unnamed__").st_mtime_ns != LAST_MODIFIED * 10**9


def test_password_hidden_and_connection_errors(ctx: Path, tmp_path: Path, client) -> None:
    root = make_root(tmp_path)
    with pytest.raises(BuildError) as info:
        run(add("http://user:hunter2@127.0.0.1:9/x", "/x"), ctx, root, http=client)
    message = str(info.value)
    assert "hunter2" not in message and "user:***@127.0.0.1:9" in message
    assert message.startswith("ADD http://")
