"""The base images a Dockerfile names, known before any of them is resolved.

Planning asks the resolver for each base image's config one stage after another (a
stage's variables start from its base's ``Env``), so the round trips to registries would
add up. But the image a ``FROM`` names never depends on a base's config: it is expanded
with the global ARGs only, and its platform is the ``FROM --platform`` value, the base
stage's, or the target's. :func:`base_references` finds them all that way, so the
executor can resolve them concurrently first and the planner then finds each one
resolved (BuildKit's frontend does the same: it resolves every stage's base image in
parallel before it converts the stages).

It is best effort: a Dockerfile the planner would refuse gives the references found
before the error (the planner reports the error itself).
"""

from __future__ import annotations

from collections.abc import Mapping

from kaniko.dockerfile.ast import Dockerfile
from kaniko.errors import KanikoError
from kaniko.oci.platform import Platform
from kaniko.plan.builder import start_planning


def base_references(
    dockerfile: Dockerfile,
    *,
    build_args: Mapping[str, str | None],
    target: str | None = None,
    skip_unused_stages: bool = False,
    platform: Platform | None = None,
    build_platform: Platform | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[tuple[str, Platform], ...]:
    """The (image reference, platform) pairs of the registry images the stages up to the
    target are built ``FROM``, in file order, each once (``scratch`` and stages left
    out). With ``skip_unused_stages``: only those of the target's ``FROM`` chain (the
    stages it copies from are found by planning it). Arguments as for
    :func:`~kaniko.plan.make_plan`."""
    try:
        planner, target_index = start_planning(
            dockerfile,
            build_args=build_args,
            target=target,
            platform=platform,
            build_platform=build_platform,
            environ=environ,
            bases=None,
        )
    except KanikoError:
        return ()
    wanted = planner.target_platform
    platforms: dict[int, Platform] = {}
    images: dict[int, str] = {}
    parents: dict[int, int] = {}
    for index in range(target_index + 1):
        try:
            f, chosen, parent = planner.from_of(index)
        except KanikoError:
            break
        if parent is not None:
            parents[index] = parent
            platforms[index] = chosen or platforms.get(parent, wanted)
        else:
            platforms[index] = chosen or wanted
            if f.base.lower() != "scratch":
                images[index] = f.base
    indices = list(images)
    if skip_unused_stages:
        at = target_index
        while at in parents:
            at = parents[at]
        indices = [at] if at in images else []
    found = [(images[i], platforms[i]) for i in indices]
    return tuple(dict.fromkeys(found))
