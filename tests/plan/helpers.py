"""A base-image resolver for planner tests: configs made from functions of the reference."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kaniko.oci.config import ImageConfig
from kaniko.oci.platform import Platform
from kaniko.oci.runconfig import RunConfig

Lookup = Callable[[str, Platform], Sequence[str]]


class Bases:
    """:class:`kaniko.plan.BaseImages` whose configs have ``env`` and ``onbuild``'s
    entries; ``calls`` records every (reference, platform) asked for."""

    def __init__(self, env: Lookup | None = None, onbuild: Lookup | None = None) -> None:
        self.env = env
        self.onbuild = onbuild
        self.calls: list[tuple[str, Platform]] = []

    def config(self, reference: str, platform: Platform) -> ImageConfig:
        self.calls.append((reference, platform))
        env = self.env(reference, platform) if self.env else ()
        onbuild = self.onbuild(reference, platform) if self.onbuild else ()
        return ImageConfig(config=RunConfig(env=tuple(env), on_build=tuple(onbuild)))
