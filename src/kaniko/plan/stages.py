"""Stage names and references between stages.

A stage is named by ``FROM … AS name`` (case-insensitive, lower-cased by the parser,
unique in the file) and referred to by that name or by its index: ``FROM name`` (name
only), ``COPY --from=name|index`` and ``RUN --mount=from=name|index``. A ``--from``
must point at an earlier stage; a FROM naming this stage or a later one means an image
of that name (a warning says so). A ``--from`` that names no stage is an image reference, if it
parses as one. ``--from`` values never expand variables (BuildKit refuses them).
"""

from __future__ import annotations

from collections.abc import Sequence

from kaniko.dockerfile.commands import StageDef
from kaniko.errors import DockerfileError
from kaniko.refs.grammar import InvalidReferenceError
from kaniko.refs.reference import Reference

RESERVED_NAMES = frozenset({"scratch", "context"})


class StageTable:
    """The stages of one Dockerfile by name and index."""

    def __init__(self, stages: Sequence[StageDef], path: str) -> None:
        self.path = path
        self.stages = tuple(stages)
        self.by_name: dict[str, int] = {}
        self.warnings: list[str] = []
        for index, stage in enumerate(self.stages):
            name = stage.from_.name
            if not name:
                continue
            if name in self.by_name:
                first = self.stages[self.by_name[name]].from_.line
                raise DockerfileError(
                    f'duplicate stage name "{name}" (first used on line {first})',
                    path=path,
                    line=stage.from_.line,
                )
            if name in RESERVED_NAMES:
                self.warnings.append(
                    f"{path}:{stage.from_.line}: stage name '{name}' is reserved "
                    f"and may be confused with the '{name}' source"
                )
            self.by_name[name] = index

    def name_of(self, index: int) -> str:
        return self.stages[index].from_.name

    def target_index(self, target: str | None) -> int:
        """The index of ``--target`` (case-insensitive), or of the last stage."""
        if not target:
            return len(self.stages) - 1
        index = self.by_name.get(target.lower())
        if index is None:
            known = ", ".join(sorted(self.by_name)) or "none"
            raise DockerfileError(
                f'target stage "{target}" could not be found (stages named: {known})',
                path=self.path,
            )
        return index

    def base_of(self, base: str, current: int, line: int) -> int | None:
        """The stage index ``FROM base`` (already expanded) names, else None (an image).

        A name of this stage or of a later one is not a stage reference for Docker (the
        base is then an image of that name, as in ``FROM nginx AS nginx``): it is
        reported as a warning.
        """
        index = self.by_name.get(base.lower())
        if index is None:
            return None
        if index >= current:
            which = (
                "this stage"
                if index == current
                else f"a later stage (line {self.stages[index].from_.line})"
            )
            self.warnings.append(
                f"{self.path}:{line}: FROM {base}: '{base}' is the name of {which}; "
                f"it is used as an image reference"
            )
            return None
        return index

    def source(self, ref: str, current: int, line: int, what: str) -> int | str:
        """Resolve ``--from=ref`` used in stage ``current``: a stage index or an image."""
        if ref.isdigit():
            index = int(ref)
            if index >= len(self.stages):
                raise DockerfileError(
                    f"{what}: invalid stage index {index}", path=self.path, line=line
                )
        else:
            found = self.by_name.get(ref.lower())
            if found is None:
                check_image(ref, self.path, line, what)
                return ref
            index = found
        if index >= current:
            here = self.name_of(current) or str(current)
            raise DockerfileError(
                f'{what}: cannot copy from stage "{ref}", it needs to be defined before '
                f'current stage "{here}"',
                path=self.path,
                line=line,
            )
        return index


def check_image(ref: str, path: str, line: int, what: str) -> None:
    """Raise unless ``ref`` is a valid image reference (or ``scratch``)."""
    if ref.lower() == "scratch":
        return
    try:
        Reference.parse(ref)
    except InvalidReferenceError as exc:
        raise DockerfileError(
            f"{what}: {ref!r} is neither a stage nor a valid image reference ({exc.reason})",
            path=path,
            line=line,
        ) from None
