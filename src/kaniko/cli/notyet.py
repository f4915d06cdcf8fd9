"""The one table of flags whose feature is not built yet.

A flag listed here is parsed and validated like any other, but a run that sets it to
anything but kaniko's default stops with ``not supported yet: --flag`` instead of
silently doing something else. Each later piece of work removes the rows it builds.
Values that come from ``KANIKO_*`` variables count too (``KANIKO_REGISTRY_MIRROR``
shows as ``--registry-mirror``, ``KANIKO_DIR`` as ``--kaniko-dir``).
"""

from __future__ import annotations

from collections.abc import Callable

from kaniko.errors import NotSupportedYet
from kaniko.options import BuildOptions

Getter = Callable[[BuildOptions], object]


NOT_YET: dict[str, Getter] = {}


def unsupported_flags(opts: BuildOptions) -> list[str]:
    """The flags of :data:`NOT_YET` that ``opts`` sets to a non-default value."""
    default = BuildOptions()
    return [flag for flag, get in NOT_YET.items() if get(opts) != get(default)]


def check_supported(opts: BuildOptions) -> None:
    """Raise :class:`NotSupportedYet` naming every not-yet flag that ``opts`` uses."""
    flags = unsupported_flags(opts)
    if flags:
        raise NotSupportedYet(f"not supported yet: {', '.join(flags)}")
