"""An ssh agent serving key files: ``--ssh ID=/path/to/key`` without an agent of your own.

BuildKit's clients load the key files named by ``--ssh`` into an in-process agent; so
does kaniko. :class:`KeyAgent` speaks the agent protocol (draft-miller-ssh-agent) to a
RUN step's ssh client: it lists the keys (``REQUEST_IDENTITIES``) and signs with them
(``SIGN_REQUEST``: Ed25519, ECDSA P-256/384/521, and RSA with SHA-2 when the client asks,
as OpenSSH always does); everything else is answered ``FAILURE``, so a step can neither
add, remove nor read keys. The private keys stay in this process's memory; a key with a
passphrase is refused when the build starts. ``cryptography`` is imported only when a
key file is given.
"""

from __future__ import annotations

import base64
import socket
import struct
from pathlib import Path
from typing import Any

from kaniko.errors import UsageError

FAILURE = 5
REQUEST_IDENTITIES = 11
IDENTITIES_ANSWER = 12
SIGN_REQUEST = 13
SIGN_RESPONSE = 14
_RSA_SHA2_256 = 2
_RSA_SHA2_512 = 4
MAX_MESSAGE = 256 * 1024


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _mpint(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b""
    return _string(raw)


def _read_string(data: bytes, offset: int) -> tuple[bytes, int]:
    (length,) = struct.unpack_from(">I", data, offset)
    end = offset + 4 + length
    if end > len(data):
        raise ValueError("truncated string")
    return data[offset + 4 : end], end


class _Key:
    """One private key: its public blob, comment, and how it signs."""

    def __init__(self, private: Any, comment: str) -> None:
        from cryptography.hazmat.primitives import serialization

        self.private = private
        public = private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        self.blob = base64.b64decode(public.split()[1])
        self.comment = comment

    def sign(self, data: bytes, flags: int) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        key = self.private
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return _string(b"ssh-ed25519") + _string(key.sign(data))
        if isinstance(key, rsa.RSAPrivateKey):
            digest: hashes.HashAlgorithm
            if flags & _RSA_SHA2_512:
                name, digest = b"rsa-sha2-512", hashes.SHA512()
            elif flags & _RSA_SHA2_256:
                name, digest = b"rsa-sha2-256", hashes.SHA256()
            else:
                name, digest = b"ssh-rsa", hashes.SHA1()  # the protocol's default
            return _string(name) + _string(key.sign(data, padding.PKCS1v15(), digest))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            bits = key.curve.key_size
            algorithm: Any = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}[bits]
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(algorithm())))
            name = f"ecdsa-sha2-nistp{bits}".encode()
            return _string(name) + _string(_mpint(r) + _mpint(s))
        raise ValueError(f"unsupported key type {type(key).__name__}")


class KeyAgent:
    """An agent holding the keys of some files (see the module docs)."""

    def __init__(self, keys: list[_Key]) -> None:
        self.keys = keys

    @classmethod
    def load(cls, paths: tuple[str, ...], flag: str) -> KeyAgent:
        """Read the private keys in ``paths``; :class:`UsageError` naming ``flag`` for a
        file that cannot be read or is no usable key."""
        try:
            from cryptography.hazmat.primitives import serialization
        except ImportError:  # pragma: no cover - a dependency of kaniko
            raise UsageError(f"{flag}: key files need the 'cryptography' package") from None
        keys = []
        for path in paths:
            try:
                data = Path(path).read_bytes()
            except OSError as e:
                raise UsageError(f"{flag}: cannot read {path}: {e.strerror}") from None
            private: Any
            try:
                if b"OPENSSH PRIVATE KEY" in data:
                    private = serialization.load_ssh_private_key(data, password=None)
                else:
                    private = serialization.load_pem_private_key(data, password=None)
            except TypeError:
                raise UsageError(f"{flag}: {path} is protected by a passphrase") from None
            except ValueError as e:
                raise UsageError(f"{flag}: {path} is not a private key ({e})") from None
            key = _Key(private, path)
            try:
                key.sign(b"probe", _RSA_SHA2_256)
            except (ValueError, KeyError):
                raise UsageError(f"{flag}: {path}: this kind of key is not supported") from None
            keys.append(key)
        return cls(keys)

    def handle(self, conn: socket.socket) -> None:
        """Answer requests on ``conn`` until the client closes it."""
        while True:
            head = _recv(conn, 4)
            if head is None:
                return
            (length,) = struct.unpack(">I", head)
            if not 0 < length <= MAX_MESSAGE:
                return
            message = _recv(conn, length)
            if message is None:
                return
            conn.sendall(_string(self.answer(message)))

    def answer(self, message: bytes) -> bytes:
        """The reply to one request (type byte and body)."""
        kind, body = message[0], message[1:]
        try:
            if kind == REQUEST_IDENTITIES:
                listed = b"".join(_string(k.blob) + _string(k.comment.encode()) for k in self.keys)
                return bytes([IDENTITIES_ANSWER]) + struct.pack(">I", len(self.keys)) + listed
            if kind == SIGN_REQUEST:
                blob, offset = _read_string(body, 0)
                data, offset = _read_string(body, offset)
                flags = struct.unpack_from(">I", body, offset)[0] if len(body) > offset else 0
                for key in self.keys:
                    if key.blob == blob:
                        return bytes([SIGN_RESPONSE]) + _string(key.sign(data, flags))
        except (ValueError, struct.error):
            pass
        return bytes([FAILURE])


def _recv(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
