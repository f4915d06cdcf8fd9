"""git servers on loopback: ``git daemon`` and ``git http-backend``, both Debian's git.

:func:`start_git_daemon` serves a directory of bare repositories over ``git://``.
:class:`GitHttpServer` runs ``git http-backend`` as a CGI program behind a small threaded
HTTP(S) server that checks Basic auth: repositories under ``private/`` need a user name
equal to the token (any password, as GitHub accepts a token) or one of the configured
user/password pairs; everything else is public. It counts the bytes each request path
was sent, so a test can tell a shallow fetch from a full one.
"""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.lab.pki import TestCA
from tests.lab.tools import free_port, require_tool, wait_for_port

BACKEND = "/usr/lib/git-core/git-http-backend"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "lab",
    "GIT_AUTHOR_EMAIL": "lab@example.invalid",
    "GIT_COMMITTER_NAME": "lab",
    "GIT_COMMITTER_EMAIL": "lab@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def git(*args: str, cwd: Path | None = None) -> str:
    """Run Debian's git with a fixed identity; its stdout."""
    env = {**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": "/dev/null"}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout.strip()


class _Handler(BaseHTTPRequestHandler):
    server: GitHttpServer  # type: ignore[assignment]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _authorised(self) -> bool:
        path = self.path.split("?", 1)[0]
        if not path.startswith("/private/"):
            return True
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        if user == self.server.token:
            return True
        return self.server.users.get(user) == password and bool(password)

    def do_GET(self) -> None:
        self._cgi()

    def do_POST(self) -> None:
        self._cgi()

    def _cgi(self) -> None:
        if not self._authorised():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="lab git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": "lab",
        }
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        done = subprocess.run([BACKEND], input=body, env=env, capture_output=True, check=False)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        with self.server.lock:
            self.server.sent[path] += len(payload)


class GitHttpServer(ThreadingHTTPServer):
    """Smart HTTP for the bare repositories under ``root``."""

    daemon_threads = True

    def __init__(self, root: Path, token: str, users: dict[str, str], ca: TestCA | None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root, self.token, self.users = root, token, users
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.scheme = "http"
        if ca is not None:
            files = ca.issue("git-http")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(files.cert, files.key)
            self.socket = context.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"


@contextmanager
def git_http(
    root: Path, *, token: str, users: dict[str, str] | None = None, ca: TestCA | None = None
) -> Iterator[GitHttpServer]:
    """Serve ``root`` over smart HTTP (HTTPS with ``ca``) until the block ends."""
    if not os.path.exists(BACKEND):
        require_tool("git-http-backend")
    server = GitHttpServer(root, token, dict(users or {}), ca)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def git_daemon(root: Path) -> Iterator[str]:
    """``git daemon`` exporting every repository under ``root``; yields ``git://…``."""
    require_tool("git")
    port = free_port()
    argv = [
        "git", "daemon", "--reuseaddr", "--export-all", f"--base-path={root}",
        "--listen=127.0.0.1", f"--port={port}", "--enable=upload-pack", str(root),
    ]  # fmt: skip
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port("127.0.0.1", port, 20, alive=lambda: process.poll() is None)
        yield f"git://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def make_repo(root: Path, name: str, work: Path) -> tuple[Path, Path]:
    """An empty bare repository ``root/name`` and a work tree cloned from it."""
    bare = root / name
    bare.parent.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "--bare", "-b", "main", str(bare))
    git("config", "uploadpack.allowAnySHA1InWant", "false", cwd=bare)
    tree = work / name.replace("/", "_").removesuffix(".git")
    shutil.rmtree(tree, ignore_errors=True)
    git("init", "-q", "-b", "main", str(tree))
    git("remote", "add", "origin", str(bare), cwd=tree)
    return bare, tree
