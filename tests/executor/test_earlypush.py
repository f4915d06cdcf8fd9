"""Layers uploaded while they are written; a registry that refuses leaves them to the push."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from kaniko.executor.earlypush import PIECE, EarlyPush
from kaniko.oci.digest import Digest
from kaniko.oci.streams import LayerSpooler
from kaniko.options import RegistryOptions
from kaniko.refs.reference import Reference
from kaniko.registry.client import RegistryClient
from kaniko.registry.keychain import Keychain
from kaniko.registry.transport import Transport
from tests.lab.faultproxy import FaultProxy, Rule
from tests.lab.registry import Registry

DATA = os.urandom(24 * PIECE + 12345)  # incompressible: the spool grows as it is written


def spool(directory: Path, early: EarlyPush, data: bytes = DATA) -> Path:
    with LayerSpooler(directory, "gzip", watch=early.watch) as spooler:
        for start in range(0, len(data), 1 << 20):
            spooler.write(data[start : start + (1 << 20)])
        layer = spooler.finish()
    return Path(str(layer.digest))


def has_blob(registry_url: str, repo: str, digest: str) -> bool:
    return httpx.head(f"{registry_url}/v2/{repo}/blobs/{digest}").status_code == 200


def test_a_layer_is_in_the_registry_when_the_push_starts(
    tmp_path: Path, registry_plain: Registry
) -> None:
    with Transport(RegistryOptions(), Keychain([])) as transport:
        early = EarlyPush(transport, Reference.parse(f"{registry_plain.host}/early/ok:1"))
        digest = str(spool(tmp_path, early))
        assert early.wait() == 1
    assert has_blob(registry_plain.url, "early/ok", digest)


def test_a_refused_streamed_upload_is_left_to_the_push(
    tmp_path: Path, registry_plain: Registry
) -> None:
    with (
        FaultProxy(registry_plain.host) as proxy,
        Transport(RegistryOptions(), Keychain([])) as transport,
    ):
        refusal = proxy.add(Rule("PATCH", "/blobs/uploads/", "status", status=405, times=100))
        early = EarlyPush(transport, Reference.parse(f"{proxy.host}/early/refused:1"))
        digest = str(spool(tmp_path, early))
        assert early.wait() == 0  # no exception: the push uploads it as usual
        assert refusal.hit.is_set()
    assert not has_blob(registry_plain.url, "early/refused", digest)


def test_an_aborted_layer_is_not_uploaded(tmp_path: Path, registry_plain: Registry) -> None:
    with Transport(RegistryOptions(), Keychain([])) as transport:
        early = EarlyPush(transport, Reference.parse(f"{registry_plain.host}/early/gone:1"))
        spooler = LayerSpooler(tmp_path, "gzip", watch=early.watch)
        spooler.write(DATA)
        spooler.abort()
        assert early.wait() == 0
    assert list(tmp_path.iterdir()) == []


def test_the_upload_streams_the_spool_while_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body starts before the layer is finished, follows the file in pieces of at
    most 1 MiB (never the layer in memory) and is the whole blob; the digest is asked
    after the body is exhausted."""
    pieces: list[bytes] = []
    first = threading.Event()
    finished = threading.Event()
    early_pieces: list[int] = []
    asked: list[Digest] = []

    def record(_client: RegistryClient, body: Iterator[bytes], digest: Callable[[], Digest]):
        for piece in body:
            pieces.append(piece)
            if not finished.is_set():
                early_pieces.append(len(piece))
            first.set()
        asked.append(digest())

    monkeypatch.setattr(RegistryClient, "upload_stream", record)
    with Transport(RegistryOptions(), Keychain([])) as transport:
        early = EarlyPush(transport, Reference.parse("127.0.0.1:9/early/stream:1"))
        spooler = LayerSpooler(tmp_path, "gzip", watch=early.watch)
        spooler.write(DATA[: len(DATA) // 2])
        assert first.wait(30)  # sent before the second half is even written
        finished.set()
        spooler.write(DATA[len(DATA) // 2 :])
        layer = spooler.finish()
        assert early.wait() == 1
    assert early_pieces
    assert max(len(piece) for piece in pieces) <= PIECE
    assert b"".join(pieces) == layer.path.read_bytes()
    assert asked == [layer.digest]
