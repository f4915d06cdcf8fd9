"""A caching HTTP proxy for apt on loopback, so the apt-get workload measures kaniko.

The build benchmark's apt-get workload points apt at this proxy (``Acquire::http::Proxy``).
Every GET to the machine's Debian mirror (the host of an apt source in /etc/apt, read by
:func:`tests.lab.debian.debian_mirror`) is answered from an on-disk cache, filled on the
first miss: package lists and ``.deb`` files are fetched from the mirror once per
machine, and every later build reads them from local disk. Requests to any other host are
refused (403), and the proxy listens on 127.0.0.1 only.

The cache lives in ``$KANIKO_LAB_CACHE/apt-proxy`` (default ``~/.cache/kaniko-lab``), one
file per URL, named by the URL's SHA-256; entries are written to a temporary name and
renamed, so concurrent misses never serve a partial file.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.lab.debian import cache_dir, debian_mirror

UPSTREAM_TIMEOUT = 120.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or url.hostname not in self.server.allowed:
            self._reply(403, b"only the Debian mirror is proxied\n")
            return
        key = hashlib.sha256(self.path.encode()).hexdigest()
        cached = self.server.directory / key
        if not cached.exists():
            status = self._fetch(url, cached)
            if status != 200:
                self._reply(status, b"upstream refused\n")
                return
        size = cached.stat().st_size
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        with open(cached, "rb") as body:
            shutil.copyfileobj(body, self.wfile, 1 << 20)

    def _fetch(self, url: urllib.parse.SplitResult, cached: Path) -> int:
        conn = http.client.HTTPConnection(url.netloc, timeout=UPSTREAM_TIMEOUT)
        try:
            target = url.path + (f"?{url.query}" if url.query else "")
            conn.request("GET", target, headers={"User-Agent": "kaniko-bench-apt-proxy"})
            response = conn.getresponse()
            if response.status != 200:
                response.read()
                return response.status
            fd, partial = tempfile.mkstemp(dir=cached.parent, prefix=".partial-")
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
            os.replace(partial, cached)
            self.server.misses += 1
            return 200
        except OSError:
            return 502
        finally:
            conn.close()

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the benchmark prints its own lines."""


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory: Path, allowed: set[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.directory = directory
        self.allowed = allowed
        self.misses = 0


@contextmanager
def apt_proxy() -> Iterator[_Proxy]:
    """A running proxy; its URL is ``http://127.0.0.1:<server_port>``."""
    directory = cache_dir() / "apt-proxy"
    directory.mkdir(parents=True, exist_ok=True)
    mirror = urllib.parse.urlsplit(debian_mirror())
    allowed = {mirror.hostname or ""}
    server = _Proxy(directory, allowed)
    thread = threading.Thread(target=server.serve_forever, name="apt-proxy", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
