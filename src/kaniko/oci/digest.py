"""Content digests (``sha256:<hex>``), incremental hashing and verified streaming reads.

A :class:`Digest` is the OCI ``algorithm:encoded`` pair. Only the algorithms the OCI image
spec registers for content addressing are accepted (``sha256`` with 64 and ``sha512`` with
128 lowercase hex digits); anything else is an :class:`~kaniko.errors.ImageError` whose
message names the offending text.

:class:`VerifyingReader` and :func:`verified_chunks` check a blob while it streams through:
they hash every byte they pass on, fail as soon as more bytes arrive than the expected size,
and fail at end of stream on a short read or a digest mismatch. Nothing is ever buffered.
:func:`copy_verified` does the same while copying a blob from one stream to another.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kaniko.errors import ImageError
from kaniko.iotools import CHUNK, Readable, ReadOnlyRaw, Writable

# Hex length of each supported algorithm's encoded part.
SUPPORTED_ALGORITHMS: dict[str, int] = {"sha256": 64, "sha512": 128}

# OCI image spec: algorithm-component (algorithm-separator algorithm-component)*.
_ALGORITHM_RE = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*")
_HEX_RE = re.compile(r"[a-f0-9]+")


def digest_problem(text: str) -> str | None:
    """Why ``text`` is not a supported digest, or ``None`` when it is one."""
    algorithm, sep, encoded = text.partition(":")
    if not sep or not algorithm or not encoded:
        return "want algorithm:hex"
    if not _ALGORITHM_RE.fullmatch(algorithm):
        return f"malformed algorithm {algorithm!r}"
    want = SUPPORTED_ALGORITHMS.get(algorithm)
    if want is None:
        return f"unsupported digest algorithm {algorithm!r} (want sha256 or sha512)"
    if not _HEX_RE.fullmatch(encoded):
        return "the encoded part must be lowercase hex"
    if len(encoded) != want:
        return f"{algorithm} wants {want} hex digits, got {len(encoded)}"
    return None


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """A content digest: ``algorithm`` (``sha256``/``sha512``) and lowercase ``hex``."""

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        problem = digest_problem(f"{self.algorithm}:{self.hex}")
        if problem:
            raise ImageError(f"invalid digest {self.algorithm}:{self.hex!s}: {problem}")

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``algorithm:hex``; raise :class:`ImageError` naming ``text`` if invalid."""
        if not isinstance(text, str):
            raise ImageError(f"invalid digest {text!r}: not a string")
        problem = digest_problem(text)
        if problem:
            raise ImageError(f"invalid digest {text!r}: {problem}")
        algorithm, _, encoded = text.partition(":")
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        """The digest of ``data`` under ``algorithm``."""
        hasher = Hasher(algorithm)
        hasher.update(data)
        return hasher.digest()

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def encoded(self) -> str:
        """The encoded part (the OCI spec's name for ``hex``)."""
        return self.hex

    def short(self, length: int = 12) -> str:
        """The first ``length`` hex digits, the way ``docker images`` shows IDs."""
        return self.hex[:length]


def sha256_of(data: bytes) -> Digest:
    """The sha256 digest of ``data``."""
    return Digest("sha256", hashlib.sha256(data).hexdigest())


class Hasher:
    """Incremental digest computation that also counts the bytes it has seen."""

    __slots__ = ("_hash", "algorithm", "size")

    def __init__(self, algorithm: str = "sha256") -> None:
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise ImageError(f"unsupported digest algorithm {algorithm!r} (want sha256 or sha512)")
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm)
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Feed more bytes."""
        self._hash.update(data)
        self.size += len(data)

    def digest(self) -> Digest:
        """The digest of everything fed so far (feeding may continue afterwards)."""
        return Digest(self.algorithm, self._hash.hexdigest())


class _Check:
    """Shared bookkeeping of the two verifying wrappers."""

    def __init__(self, expected: Digest, size: int | None, what: str) -> None:
        self.expected = expected
        self.size = size
        self.what = what or str(expected)
        self.hasher = Hasher(expected.algorithm)
        self.done = False

    def feed(self, data: bytes) -> None:
        self.hasher.update(data)
        if self.size is not None and self.hasher.size > self.size:
            raise ImageError(
                f"{self.what}: more data than the expected {self.size} bytes "
                f"(got at least {self.hasher.size})"
            )

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        seen = self.hasher.size
        if self.size is not None and seen != self.size:
            raise ImageError(f"{self.what}: truncated: got {seen} of {self.size} bytes")
        actual = self.hasher.digest()
        if actual != self.expected:
            raise ImageError(
                f"{self.what}: digest mismatch: expected {self.expected}, got {actual}"
            )


class VerifyingReader(ReadOnlyRaw):
    """A read-only stream that checks size and digest of what passes through it.

    Bytes are handed on as they are read; the check happens when the wrapped stream
    reports end of file, so a consumer that reads to the end is guaranteed to have seen
    exactly the expected content (or to get an :class:`ImageError`).
    """

    def __init__(
        self, source: Readable, expected: Digest, size: int | None = None, what: str = ""
    ) -> None:
        super().__init__()
        self._source = source
        self._check = _Check(expected, size, what)

    @property
    def bytes_read(self) -> int:
        """How many bytes have passed through so far."""
        return self._check.hasher.size

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0:
            chunks = []
            while chunk := self.read(CHUNK):
                chunks.append(chunk)
            return b"".join(chunks)
        if size == 0:
            return b""
        data = self._source.read(size)
        if data:
            self._check.feed(data)
        else:
            self._check.finish()
        return data

    def verify_to_end(self) -> None:
        """Drain whatever is left and run the final check."""
        while self.read(CHUNK):
            pass


def verified_chunks(
    chunks: Iterable[bytes], expected: Digest, size: int | None = None, what: str = ""
) -> Iterator[bytes]:
    """Yield ``chunks`` unchanged, raising :class:`ImageError` on a size or digest mismatch.

    The final check runs after the last chunk has been yielded, when the source ends.
    """
    check = _Check(expected, size, what)
    for chunk in chunks:
        if chunk:
            check.feed(chunk)
            yield chunk
    check.finish()


def copy_verified(source: Readable, out: Writable, expected: Digest, size: int, what: str) -> None:
    """Copy ``source`` to ``out``, failing unless it is exactly ``size`` bytes of ``expected``."""
    hasher = Hasher(expected.algorithm)
    while chunk := source.read(CHUNK):
        hasher.update(chunk)
        if hasher.size > size:
            raise ImageError(f"{what}: more data than the expected {size} bytes")
        out.write(chunk)
    if hasher.size != size:
        raise ImageError(f"{what}: truncated: got {hasher.size} of {size} bytes")
    actual = hasher.digest()
    if actual != expected:
        raise ImageError(f"{what}: digest mismatch: expected {expected}, got {actual}")
