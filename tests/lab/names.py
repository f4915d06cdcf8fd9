"""Host names of the lab: cloud registry names that resolve to loopback.

The cloud helpers serve registries by host name (``*.dkr.ecr.*.amazonaws.com``,
``*.pkg.dev``, ``*.azurecr.io``, ``CI_REGISTRY``), so a lab registry playing one must be
reached under such a name, and its TLS certificate must carry it. glibc resolves nothing
under ``.localhost`` and the machine's ``/etc/hosts`` is not the lab's to edit, so:

- in a simulated pod (tests/e2e/pod), the names go into the pod's ``/etc/hosts`` as a
  pod's ``hostAliases`` would (:func:`tests.e2e.pod.runtime.run_pod`'s ``host_aliases``);
- in the test process, :func:`loopback_names` answers them in ``socket.getaddrinfo``,
  which every connection of httpx, botocore and google-auth goes through, and passes every
  other name to the real resolver. Only the names given resolve, and only while the
  block runs: what the process would read from an ``/etc/hosts`` line, nothing more.

A cloud name never leaves the machine: the lab's names end in a cloud's domain, and
resolving them here returns 127.0.0.1 before any DNS query.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

_lock = threading.Lock()
_names: dict[str, int] = {}  # name -> how many active blocks declared it
_real_getaddrinfo = socket.getaddrinfo


def _lab_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name.lower().rstrip(".") in _names:
        host = "127.0.0.1"
    return _real_getaddrinfo(host, port, *args, **kwargs)


@contextlib.contextmanager
def loopback_names(names: Iterable[str]) -> Iterator[None]:
    """Within the block, each of ``names`` resolves to 127.0.0.1 in this process."""
    wanted = [n.lower() for n in names]
    with _lock:
        for name in wanted:
            _names[name] = _names.get(name, 0) + 1
        socket.getaddrinfo = _lab_getaddrinfo
    try:
        yield
    finally:
        with _lock:
            for name in wanted:
                _names[name] -= 1
                if not _names[name]:
                    del _names[name]
            if not _names:
                socket.getaddrinfo = _real_getaddrinfo


def hosts_lines(names: Iterable[str]) -> str:
    """``/etc/hosts`` lines for ``names`` on loopback, as the kubelet writes hostAliases."""
    listed = "\t".join(names)
    return f"# Entries added by HostAliases.\n127.0.0.1\t{listed}\n" if listed else ""
