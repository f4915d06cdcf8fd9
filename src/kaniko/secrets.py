"""Build secrets (``--secret``): their values, read once, and masked in every log.

BuildKit's clients resolve a ``--secret`` when the build starts, and so does kaniko: a
file source is read (at most :data:`MAX_SECRET_SIZE` bytes, BuildKit's limit) and an
environment source looked up in the build's environment. A source naming neither is the
variable of the same name if the environment has one, else the file of that name (as
BuildKit's secrets provider decides). A file that cannot be read is a usage error before
any work; a variable that is not set leaves the secret missing, which only a ``RUN
--mount=type=secret,required`` turns into an error (checked before any work too).

Values live in this process's memory only: ``RUN`` steps get them through a private
tmpfs (chroot isolation), a file present for the step's life only (in-place isolation)
or an environment variable (``env=``), never through a layer, the config, the history,
a cache key or the log. Every value is registered with :mod:`kaniko.redact` as soon as
it is read: the whole value, and each longer line of a multi-line one, since a RUN's
output reaches the log line by line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kaniko.errors import UsageError
from kaniko.options import SecretSource
from kaniko.redact import register_secret

MAX_SECRET_SIZE = 500 * 1024
"""The largest secret BuildKit accepts (bytes)."""

MIN_MASKED = 4
"""Values (and lines of values) shorter than this are not masked: they would hide too much
ordinary text of the log to be useful."""


@dataclass(frozen=True)
class SecretStore:
    """The secrets of one build, by id."""

    values: Mapping[str, bytes]

    def get(self, secret_id: str) -> bytes | None:
        """The value of ``secret_id``, or None when it was not given (or its variable unset)."""
        return self.values.get(secret_id)

    def __contains__(self, secret_id: object) -> bool:
        return secret_id in self.values

    @classmethod
    def load(cls, sources: Iterable[SecretSource], environ: Mapping[str, str]) -> SecretStore:
        """Read every source; :class:`UsageError` for a file that cannot be read or is too
        big. Each value is registered for redaction."""
        values: dict[str, bytes] = {}
        for source in sources:
            value = _read(source, environ)
            if value is not None:
                mask(value)
                values[source.id] = value
        return cls(values)


EMPTY = SecretStore({})


def _read(source: SecretSource, environ: Mapping[str, str]) -> bytes | None:
    env, path = source.env, source.src
    if not env and not path:
        if source.id in environ:
            env = source.id
        else:
            path = source.id
    if env:
        text = environ.get(env)
        return None if text is None else os.fsencode(text)
    flag = f"--secret id={source.id}"
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_SECRET_SIZE:
                raise UsageError(f"{flag}: {path} is too big (the most is 500KB)")
            return file.read(MAX_SECRET_SIZE + 1)[:MAX_SECRET_SIZE]
    except OSError as e:
        raise UsageError(f"{flag}: cannot read {path}: {e.strerror}") from None


def mask(value: bytes) -> None:
    """Register ``value`` (and each longer line of it) for redaction in logs and errors."""
    text = value.decode("utf-8", "replace")
    if len(text.strip()) >= MIN_MASKED:
        register_secret(text.strip())
    lines = [line.strip() for line in text.splitlines()]
    if len(lines) > 1:
        for line in lines:
            if len(line) >= 2 * MIN_MASKED:
                register_secret(line)
