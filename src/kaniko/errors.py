"""The exception tree of kaniko.

Every error the tool reports to a user is a :class:`KanikoError`; its ``str()`` is one
clear line naming what went wrong and where (the Dockerfile and line, the registry and
reference, the path). Anything else escaping to the CLI is a bug.

::

    KanikoError
    ├── UsageError              bad flags or option combinations (exit 2)
    ├── NotSupportedYet         a flag or feature that a later release builds
    ├── DockerfileError         Dockerfile:LINE: message (syntax and semantics)
    ├── ExpansionError          word expansion failed (${V:?msg}, bad substitution); the
    │                           planner re-raises it as a DockerfileError naming the line
    ├── InvalidReferenceError   an image reference off the grammar (kaniko.refs.grammar)
    ├── ContextError            build context missing or unreadable
    │   └── GitError            a git context could not be fetched (kaniko.context.git)
    ├── CredentialsError        no usable cloud credentials (lists what was tried)
    ├── RegistryError           a registry answered with an error or was unreachable
    │   └── RegistryStatusError an error status and its codes (kaniko.registry.errors)
    ├── ImageError              a malformed manifest, config or layer
    │   └── DecompressionError  corrupt, truncated or mislabelled data (kaniko.oci.compress)
    ├── FilesystemError         extraction or snapshot failed
    │   └── ArchiveTooLarge     an archive unpacks past its limit (kaniko.fs.unpack)
    └── BuildError              a step of the build failed
        └── RunError            a RUN exited non-zero (carries the exit code)

Classes defined elsewhere name their module; ``tests/test_errors.py`` checks that this
drawing is the class tree. An error that wraps another keeps it as ``__cause__`` (``raise
... from e``) where the cause says more than the message, so that ``--verbosity=trace``
shows it; ``from None`` is for causes the message already says all of.
"""

from __future__ import annotations


class KanikoError(Exception):
    """Base of every error reported to a user."""

    exit_code: int = 1


class UsageError(KanikoError):
    """The command line or options are invalid."""

    exit_code = 2


class NotSupportedYet(KanikoError):
    """A flag or feature that is recognised but not built yet."""


class ExpansionError(KanikoError):
    """Word expansion failed; the caller adds the file and line."""


class DockerfileError(KanikoError):
    """A Dockerfile that cannot be parsed or planned.

    ``str()`` is ``FILE:LINE: message`` (or ``FILE: message`` without a line).
    """

    def __init__(self, message: str, *, path: str = "Dockerfile", line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class ContextError(KanikoError):
    """The build context cannot be read."""


class RegistryError(KanikoError):
    """A registry refused or failed a request."""


class ImageError(KanikoError):
    """An image, manifest, config or layer is malformed."""


class FilesystemError(KanikoError):
    """Extracting or snapshotting a filesystem failed."""


class BuildError(KanikoError):
    """A build step failed."""


class RunError(BuildError):
    """A RUN step exited non-zero; kaniko exits with the same code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def with_context(exc: KanikoError, prefix: str) -> KanikoError:
    """``exc`` with ``prefix: `` before its one line (same type, same exit code).

    For errors raised far from the Dockerfile line that caused them (a registry refusing
    a ``FROM`` image, say); a :class:`DockerfileError` already names its line and is
    returned unchanged.
    """
    if isinstance(exc, DockerfileError):
        return exc
    exc.args = (f"{prefix}: {exc}", *exc.args[1:])
    return exc


class CredentialsError(KanikoError):
    """No usable cloud credentials were found; the message lists every source tried."""
