"""A readable listing of a plan, one line per step, like the executor's build log.

::

    stage 0 (builder) FROM busybox:1.36
      [1] ENV GOPATH=/go
      [2] RUN go build ./...
    stage 1 FROM stage 0 (builder)
      [1] COPY --from=0 /go/bin/app /app

Instructions are shown with their variables expanded where Docker expands them. ARG
lines are shown as written, so build-arg values (which may be secrets) never appear;
RUN, CMD and ENTRYPOINT are shown as written too (the shell expands them at run time).
"""

from __future__ import annotations

import json
import re

from kaniko.dockerfile.commands import (
    Add,
    Cmd,
    Command,
    Copy,
    Entrypoint,
    Env,
    Expose,
    Label,
    Run,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from kaniko.plan.model import BuildPlan, Stage

_PLAIN = re.compile(r"^[A-Za-z0-9_./:@%+,=-]*$")


def format_plan(plan: BuildPlan) -> str:
    """The plan as text: a header per stage, then its numbered steps."""
    lines: list[str] = []
    for stage in plan.stages:
        lines.append(_header(plan, stage))
        for number, step in enumerate(stage.steps, 1):
            prefix = f"  [{number}] "
            if step.onbuild_of is not None:
                prefix += f"ONBUILD(from {step.onbuild_of}) "
            lines.append(prefix + render(step.instruction))
    lines.extend(plan.warnings)
    return "\n".join(lines)


def _header(plan: BuildPlan, stage: Stage) -> str:
    if isinstance(stage.base, int):
        named = next((s for s in plan.stages if s.index == stage.base), None)
        base = f"stage {named.label if named else stage.base}"
    else:
        base = stage.base
    platform = f" --platform={stage.platform}" if stage.from_.platform else ""
    return f"stage {stage.label} FROM{platform} {base}"


def _quote(text: str) -> str:
    return text if text and _PLAIN.match(text) else json.dumps(text, ensure_ascii=False)


def _argv(cmd: tuple[str, ...], exec_form: bool) -> str:
    return json.dumps(list(cmd), ensure_ascii=False) if exec_form else " ".join(cmd)


def _copy_flags(inst: Copy | Add) -> list[str]:
    flags: list[str] = []
    if isinstance(inst, Copy) and inst.from_:
        flags.append(f"--from={inst.from_}")
    for name, value in (("chown", inst.chown), ("chmod", inst.chmod)):
        if value:
            flags.append(f"--{name}={value}")
    if isinstance(inst, Add) and inst.checksum:
        flags.append(f"--checksum={inst.checksum}")
    if inst.link:
        flags.append("--link")
    if isinstance(inst, Copy) and inst.parents:
        flags.append("--parents")
    if isinstance(inst, Add) and inst.keep_git_dir:
        flags.append("--keep-git-dir")
    flags.extend(f"--exclude={pattern}" for pattern in inst.exclude)
    return flags


def render(inst: Command) -> str:
    """One instruction on one line, from its typed fields."""
    words: list[str] = [inst.keyword]
    if isinstance(inst, Env | Label):
        words += [f"{_quote(kv.key)}={_quote(kv.value)}" for kv in inst.pairs]
    elif isinstance(inst, Copy | Add):
        words += _copy_flags(inst)
        words += [_quote(s) for s in inst.sources]
        words += [f"<<{doc.name}" for doc in inst.contents]
        words.append(_quote(inst.dest))
    elif isinstance(inst, Run):
        words += [f"--mount={spec}" for spec in inst.mount_specs]
        options = (("network", inst.network), ("security", inst.security))
        words += [f"--{name}={value}" for name, value in options if value]
        words.append(_argv(inst.cmd, inst.json))
    elif isinstance(inst, Cmd | Entrypoint):
        words.append(_argv(inst.cmd, inst.json))
    elif isinstance(inst, Shell):
        words.append(_argv(inst.shell, True))
    elif isinstance(inst, Workdir):
        words.append(inst.path)
    elif isinstance(inst, User):
        words.append(inst.user)
    elif isinstance(inst, StopSignal):
        words.append(inst.signal)
    elif isinstance(inst, Volume | Expose):
        words += list(inst.volumes if isinstance(inst, Volume) else inst.ports)
    else:  # ARG, HEALTHCHECK, MAINTAINER, ONBUILD: as written
        return inst.original.split("\n", 1)[0]
    return " ".join(words)
