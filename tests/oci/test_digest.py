"""Digests, the incremental hasher and the verifying stream wrappers."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile

import pytest

from kaniko.errors import ImageError
from kaniko.oci.digest import Digest, Hasher, VerifyingReader, sha256_of, verified_chunks

EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_parse_and_format() -> None:
    digest = Digest.parse(EMPTY_SHA256)
    assert digest.algorithm == "sha256"
    assert digest.hex == digest.encoded == EMPTY_SHA256[7:]
    assert str(digest) == EMPTY_SHA256
    assert digest.short() == "e3b0c44298fc"
    assert digest.short(4) == "e3b0"
    sha512 = Digest.parse("sha512:" + "0a" * 64)
    assert sha512.algorithm == "sha512"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "want algorithm:hex"),
        ("e3b0c44298fc", "want algorithm:hex"),
        ("sha256:", "want algorithm:hex"),
        (":abc", "want algorithm:hex"),
        ("sha256:abc", "sha256 wants 64 hex digits, got 3"),
        ("sha256:" + "a" * 65, "sha256 wants 64 hex digits, got 65"),
        ("sha512:" + "a" * 64, "sha512 wants 128 hex digits, got 64"),
        ("sha256:" + "A" * 64, "lowercase hex"),
        ("sha256:" + "g" * 64, "lowercase hex"),
        ("md5:" + "a" * 32, "unsupported digest algorithm 'md5'"),
        ("sha384:" + "a" * 96, "unsupported digest algorithm 'sha384'"),
        ("SHA256:" + "a" * 64, "malformed algorithm"),
        ("sha256+b64:" + "a" * 64, "unsupported digest algorithm"),
        ("sha256::" + "a" * 64, "lowercase hex"),
    ],
)
def test_parse_rejects(text: str, reason: str) -> None:
    with pytest.raises(ImageError, match="invalid digest") as info:
        Digest.parse(text)
    assert reason in str(info.value)
    assert repr(text) in str(info.value)


def test_constructor_validates() -> None:
    with pytest.raises(ImageError):
        Digest("sha256", "abc")


def test_digests_are_values() -> None:
    a, b = Digest.parse(EMPTY_SHA256), sha256_of(b"")
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert sorted([sha256_of(b"x"), sha256_of(b"y")]) == sorted([sha256_of(b"y"), sha256_of(b"x")])


def test_sha256_of_and_of() -> None:
    assert str(sha256_of(b"")) == EMPTY_SHA256
    assert Digest.of(b"abc").hex == hashlib.sha256(b"abc").hexdigest()
    assert Digest.of(b"abc", "sha512").hex == hashlib.sha512(b"abc").hexdigest()


def test_hasher_incremental() -> None:
    data = bytes(range(256)) * 1000
    hasher = Hasher()
    for i in range(0, len(data), 4097):
        hasher.update(memoryview(data)[i : i + 4097])
    assert hasher.digest() == sha256_of(data)
    assert hasher.size == len(data)
    hasher.update(b"more")
    assert hasher.digest() == sha256_of(data + b"more")
    with pytest.raises(ImageError, match="unsupported"):
        Hasher("md5")


class CountingSource:
    """A source that records how much has been pulled from it."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self.consumed += len(chunk)
        return chunk


BLOB = b"layer bytes " * 5000
BLOB_DIGEST = sha256_of(BLOB)


def test_reader_passes_data_through_and_verifies() -> None:
    reader = VerifyingReader(io.BytesIO(BLOB), BLOB_DIGEST, len(BLOB))
    out = bytearray()
    while chunk := reader.read(777):
        out += chunk
    assert bytes(out) == BLOB
    assert reader.bytes_read == len(BLOB)
    assert reader.read(10) == b""  # repeated EOF is fine


def test_reader_streams_without_buffering() -> None:
    source = CountingSource(BLOB)
    reader = VerifyingReader(source, BLOB_DIGEST, len(BLOB))
    assert reader.read(100) == BLOB[:100]
    assert source.consumed == 100


def test_reader_read_all_and_readinto() -> None:
    assert VerifyingReader(io.BytesIO(BLOB), BLOB_DIGEST).read() == BLOB
    reader = VerifyingReader(io.BytesIO(BLOB), BLOB_DIGEST, len(BLOB))
    buffered = io.BufferedReader(reader, buffer_size=1000)
    sink = io.BytesIO()
    shutil.copyfileobj(buffered, sink)
    assert sink.getvalue() == BLOB


def test_reader_mismatch_raises_at_eof() -> None:
    wrong = sha256_of(b"something else")
    reader = VerifyingReader(io.BytesIO(BLOB), wrong, len(BLOB), what="blob in repo")
    assert reader.read(len(BLOB)) == BLOB  # data flows until the end…
    with pytest.raises(ImageError, match="blob in repo: digest mismatch") as info:
        reader.read(1)  # …and EOF fails
    assert str(wrong) in str(info.value)
    assert str(BLOB_DIGEST) in str(info.value)


def test_reader_truncated_stream() -> None:
    reader = VerifyingReader(io.BytesIO(BLOB[:-10]), BLOB_DIGEST, len(BLOB))
    with pytest.raises(ImageError, match=rf"truncated: got {len(BLOB) - 10} of {len(BLOB)}"):
        reader.verify_to_end()


def test_reader_overlong_stream_fails_before_eof() -> None:
    source = CountingSource(BLOB + b"x" * 100_000)
    reader = VerifyingReader(source, BLOB_DIGEST, len(BLOB))
    with pytest.raises(ImageError, match="more data than the expected"):
        while reader.read(4096):
            pass
    assert source.consumed < len(BLOB) + 4096


def test_reader_feeds_tarfile_stream() -> None:
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w") as tar:
        info = tarfile.TarInfo("etc/hostname")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"host\n"))
    data = payload.getvalue()
    reader = VerifyingReader(io.BytesIO(data), sha256_of(data), len(data))
    with tarfile.open(fileobj=reader, mode="r|") as tar:
        assert [m.name for m in tar] == ["etc/hostname"]
    reader.verify_to_end()


def test_verified_chunks() -> None:
    chunks = [BLOB[i : i + 1000] for i in range(0, len(BLOB), 1000)]
    assert b"".join(verified_chunks(chunks, BLOB_DIGEST, len(BLOB))) == BLOB
    assert b"".join(verified_chunks(iter([b"", *chunks]), BLOB_DIGEST)) == BLOB


def test_verified_chunks_failures() -> None:
    chunks = [BLOB[:1000], BLOB[1000:]]
    stream = verified_chunks(chunks, sha256_of(b"x"), what="sha256:x")
    assert next(stream) == BLOB[:1000]
    with pytest.raises(ImageError, match="digest mismatch"):
        list(stream)
    with pytest.raises(ImageError, match="truncated"):
        list(verified_chunks([BLOB[:10]], BLOB_DIGEST, len(BLOB)))
    with pytest.raises(ImageError, match="more data"):
        list(verified_chunks([BLOB, b"!"], BLOB_DIGEST, len(BLOB)))
