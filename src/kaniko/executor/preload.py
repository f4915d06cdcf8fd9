"""Load, before an in-place build touches ``/``, everything the running tool will need.

An in-place build extracts base images over the container's own ``/`` and runs RUN steps
there, so from then on every file outside the ignore list belongs to the image being
built: a base may ship its own ``/usr/lib/python3*``, a RUN may delete ``/usr/lib`` or
``/lib64`` or replace ``/etc/ssl``. The executor image keeps the tool under ``/kaniko``
(its own interpreter, libraries and loader, with a fixed ``sys.path``), but a process
still reaches outside it when it first *uses* something: a lazily imported module, a
codec looked up by name (``idna`` for every TLS server name), OpenSSL's configuration
file, a library glibc opens with ``dlopen`` (``libgcc_s`` when a thread unwinds).

:func:`preload` does all of that once, up front: it imports every kaniko module and the
standard-library and third-party modules they use lazily, looks up the codecs, builds one
TLS context (OpenSSL reads its configuration and the CA bundle named by
``SSL_CERT_FILE``/``SSL_CERT_DIR``, ``/kaniko/ssl/certs`` in the image) and opens
``libgcc_s``. Whatever the build then does to ``/``, the process has what it needs in
memory. Modules missing from a pruned standard library are skipped.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import hashlib
import importlib
import logging
import pkgutil
import ssl

import kaniko

log = logging.getLogger(__name__)

LAZY_MODULES = (
    # codecs and text: TLS server names and URLs go through idna
    "encodings.idna", "encodings.punycode", "encodings.ascii", "encodings.latin_1",
    "encodings.utf_8", "encodings.utf_8_sig", "encodings.utf_16", "encodings.utf_32",
    "stringprep", "unicodedata",
    # archives, compression, hashing
    "gzip", "zlib", "bz2", "lzma", "tarfile", "zipfile", "hmac", "secrets", "uuid",
    # network and HTTP (sync path of httpx)
    "socket", "selectors", "ssl", "http.client", "email.utils", "email.parser",
    "urllib.parse", "urllib.request", "netrc", "mimetypes", "certifi", "idna", "idna.core",
    "h11", "httpcore", "httpcore._backends.sync", "httpx",
    # processes, errors, threads
    "concurrent.futures.thread", "queue", "traceback", "linecache", "tokenize", "shlex",
    "pwd", "grp", "fcntl", "resource", "termios",
    # codecs of layers and progress output
    "isal.igzip", "isal.isal_zlib", "zstandard", "rich.console", "rich.progress",
    # SBOM scanning: rpm databases are SQLite files
    "sqlite3",
    # --ssh key files (kaniko.executor.sshkeys)
    "cryptography.hazmat.primitives.serialization", "cryptography.hazmat.primitives.hashes",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.asymmetric.ec",
    "cryptography.hazmat.primitives.asymmetric.padding",
    "cryptography.hazmat.primitives.asymmetric.utils",
)  # fmt: skip
CODECS = ("idna", "punycode", "ascii", "latin-1", "utf-8", "utf-8-sig", "utf-16", "utf-32")
DLOPENED = ("libgcc_s.so.1",)


def kaniko_modules() -> list[str]:
    """The names of every module of the kaniko package (``__main__`` modules excepted)."""
    return sorted(
        info.name
        for info in pkgutil.walk_packages(kaniko.__path__, "kaniko.")
        if info.name.rsplit(".", 1)[-1] != "__main__"
    )


def preload() -> int:
    """Import and warm up everything listed in the module docs; the number of modules."""
    count = 0
    for name in (*kaniko_modules(), *LAZY_MODULES):
        try:
            importlib.import_module(name)
        except ImportError as error:
            log.debug("preload: %s is not available (%s)", name, error)
            continue
        count += 1
    for name in CODECS:
        codecs.lookup(name)
    "kaniko.example".encode("idna")
    for algorithm in ("sha256", "sha512", "md5"):
        hashlib.new(algorithm, b"")
    ssl.create_default_context()
    for library in DLOPENED:
        with contextlib.suppress(OSError):
            ctypes.CDLL(library)
    log.debug("preload: %d modules loaded before the build changes /", count)
    return count
