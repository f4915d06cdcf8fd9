"""Where the plan expands variables, the errors it reports, and how it prints."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from kaniko.dockerfile import commands as c
from kaniko.dockerfile.parser import parse
from kaniko.errors import DockerfileError
from kaniko.oci.platform import Platform
from kaniko.plan import BuildPlan, format_plan, make_plan

AMD64 = Platform("linux", "amd64")
PRELUDE = "FROM x\nENV D=/data U=app P=8080 S=TERM M=0640 V=1.2\n"


def plan(text: str, build_args: Mapping[str, str | None] | None = None, **kw: object) -> BuildPlan:
    kw.setdefault("environ", {})
    kw.setdefault("build_platform", AMD64)
    return make_plan(parse(text), build_args=build_args or {}, **kw)


def step_of(text: str) -> c.Command:
    """The last instruction of the plan of PRELUDE + ``text``, as planned."""
    return plan(PRELUDE + text).stages[-1].steps[-1].instruction


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("WORKDIR $D/app", "path", "/data/app"),
        ("USER ${U}:${U}", "user", "app:app"),
        ("STOPSIGNAL SIG$S", "signal", "SIGTERM"),
        ("VOLUME $D ${D}2", "volumes", ("/data", "/data2")),
        ("EXPOSE $P 9090/udp", "ports", ("8080", "9090/udp")),
        ('ENV "K$U"="v $V"', "pairs", (c.KeyValue("Kapp", "v 1.2"),)),
        ("LABEL version=$V", "pairs", (c.KeyValue("version", "1.2"),)),
        ("COPY --chown=$U --chmod=$M $D/a* /opt/$U/", "sources", ("/data/a*",)),
        ("COPY --chown=$U --chmod=$M $D/a* /opt/$U/", "dest", "/opt/app/"),
        ("COPY --chown=$U --chmod=$M $D/a* /opt/$U/", "chown", "app"),
        ("COPY --chown=$U --chmod=$M $D/a* /opt/$U/", "chmod", "0640"),
        ("COPY --exclude=$U.log . /", "exclude", ("$U.log",)),  # BuildKit never expands it
        ("ADD --exclude=$U.log . /", "exclude", ("$U.log",)),
        ("ADD --chown=$U:$U --chmod=$M $D/f /opt/$U", "chown", "app:app"),
        ("ADD --chown=$U:$U --chmod=$M $D/f /opt/$U", "chmod", "0640"),
        ("ADD --chown=$U:$U --chmod=$M $D/f /opt/$U", "dest", "/opt/app"),
        ("COPY --link --parents $D/./x /", "sources", ("/data/./x",)),
        ("ARG ${U}_dir=$D/x", "pairs", (c.ArgDef("app_dir", "/data/x"),)),
        ("ARG ${U}", "pairs", (c.ArgDef("app", None),)),
        ('LABEL "$U.$V"="$D"', "pairs", (c.KeyValue("app.1.2", "/data"),)),
        ('CMD echo "$D"', "cmd", ('echo "$D"',)),
        ("ADD --checksum=sha256:$V https://h/f-$V.tgz /", "checksum", "sha256:1.2"),
        ("ADD --checksum=sha256:$V https://h/f-$V.tgz /", "sources", ("https://h/f-1.2.tgz",)),
        ("RUN echo $D", "cmd", ("echo $D",)),
        ('CMD ["echo", "$D"]', "cmd", ("echo", "$D")),
        ("ENTRYPOINT run $D", "cmd", ("run $D",)),
        ('SHELL ["/bin/$U"]', "shell", ("/bin/$U",)),
        ("ONBUILD RUN echo $D", "expression", "RUN echo $D"),
        ("HEALTHCHECK CMD check $D", "test", ("CMD-SHELL", "check $D")),
        ("MAINTAINER $U", "maintainer", "$U"),
    ],
)
def test_expansion_only_where_docker_expands(text: str, field: str, value: object) -> None:
    assert getattr(step_of(text), field) == value


def test_expose_words_split_after_expansion() -> None:
    inst = plan("FROM x\nARG PORTS='80 443'\nEXPOSE $PORTS\n").stages[0].steps[-1].instruction
    assert isinstance(inst, c.Expose)
    assert inst.ports == ("80", "443")


def test_run_mount_values_expand() -> None:
    inst = step_of("RUN --mount=type=cache,target=$D/cache,uid=${P} make")
    assert isinstance(inst, c.Run)
    (mount,) = inst.mounts
    assert (mount.target, mount.id, mount.uid) == ("/data/cache", "/data/cache", 8080)
    assert inst.mount_specs == ("type=cache,target=$D/cache,uid=${P}",)


def test_copy_heredoc_bodies() -> None:
    inst = step_of("COPY <<EOF <<'RAW' <<-TABS /etc/\nu=$U \"q\"\nEOF\nu=$U\nRAW\n\tu=$U\n\tTABS\n")
    assert isinstance(inst, c.Copy)
    bodies = [(d.name, d.content, d.expand, d.chomp) for d in inst.contents]
    assert bodies == [
        ("EOF", 'u=app "q"\n', False, False),
        ("RAW", "u=$U\n", False, False),
        ("TABS", "u=app\n", False, False),
    ]


def test_run_heredoc_is_left_to_the_shell() -> None:
    inst = step_of("RUN <<EOF\necho $U\nEOF\n")
    assert isinstance(inst, c.Run)
    assert inst.heredocs[0].content == "echo $U\n"
    assert inst.heredocs[0].expand is True


def test_onbuild_trigger_expands_when_it_runs() -> None:
    text = "FROM x AS p\nENV W=/parent\nONBUILD WORKDIR $W\nFROM p\nENV W=/late\n"
    trigger = plan(text).stage(1).steps[0].instruction
    assert isinstance(trigger, c.Workdir)
    assert trigger.path == "/parent"


ERRORS = [
    ("FROM x\nENV A=${NOPE:?required}\n", 2, 'failed to process "${NOPE:?required}"'),
    ("FROM x\nCOPY ${A:-} ${B/x} /\n", 2, "failed to process"),
    ("ARG A=${Z:?meta}\nFROM x\n", 1, "Z: meta"),
    ("FROM x\nARG A=${Z:?instage}\n", 2, "Z: instage"),
    ("FROM ${EMPTY}\n", 1, "base name (${EMPTY}) should not be blank"),
    ("FROM --platform=$NONE x\n", 1, "empty platform value from expression $NONE"),
    ("FROM --platform=linux/a/b/c x\n", 1, "failed to parse platform linux/a/b/c"),
    ("FROM Not_An_Image\n", 1, "'Not_An_Image' is neither a stage nor a valid image reference"),
    ("FROM x\nSTOPSIGNAL SIGNOPE\n", 2, "Invalid signal: SIGNOPE"),
    ("FROM x\nARG P=80/tcp/x\nEXPOSE $P\n", 3, "invalid port in EXPOSE: 80/tcp/x"),
    ("FROM x\nARG E\nVOLUME /a $E\n", 3, "VOLUME specified can not be an empty string"),
    ("FROM x\nARG U=me\nRUN --mount=type=cache,target=/c,uid=$U true\n", 3, "invalid value me"),
    ("FROM x\nCOPY --from=$S / /\n", 2, "variable expansion is not supported for --from"),
    ("FROM x\nENV N=none\nRUN --network=$N true\n", 3, 'unsupported network mode "$N"'),
    ("FROM x\nRUN --mount=from=$S,target=/s true\n", 2, "'from' doesn't support variable"),
    ("FROM x\nCOPY --from=3 / /\n", 2, "COPY --from: invalid stage index 3"),
    ("FROM x AS a\nCOPY --from=a / /\n", 2, 'cannot copy from stage "a", it needs to be defined'),
    ("FROM x\nCOPY --from=1 / /\nFROM y\n", 2, 'before current stage "0"'),
    ("FROM x\nCOPY --from=Bad_Name / /\n", 2, "neither a stage nor a valid image reference"),
    ("FROM x\nRUN --mount=from=later,target=/l true\nFROM y AS later\n", 2, "RUN --mount from"),
    ("FROM a AS s\nFROM b AS S\n", 2, 'duplicate stage name "s" (first used on line 1)'),
]


@pytest.mark.parametrize(("text", "line", "message"), ERRORS)
def test_plan_errors_name_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(DockerfileError) as info:
        plan(text)
    assert str(info.value).startswith(f"Dockerfile:{line}: ")
    assert message in info.value.message


def test_error_in_an_unbuilt_stage_is_not_raised() -> None:
    text = "FROM x AS broken\nENV A=${Z:?boom}\nFROM y AS ok\n"
    assert [s.index for s in plan(text, skip_unused_stages=True).stages] == [1]
    with pytest.raises(DockerfileError, match="boom"):
        plan(text)


def test_format_plan() -> None:
    text = (
        "ARG TAG=1.36\n"
        "FROM busybox:${TAG} AS Builder\n"
        "ARG SECRET\n"
        "ENV DIR=/src\n"
        "WORKDIR $DIR\n"
        "RUN --network=none make $DIR\n"
        'CMD ["app"]\n'
        "FROM --platform=linux/arm64 builder\n"
        'COPY --from=builder --chown=1:1 ["$DIR/out", "/dest dir/"]\n'
        "EXPOSE 80\n"
    )
    built = plan(text, {"SECRET": "hunter2", "EXTRA": "x"})
    assert format_plan(built) == (
        "stage 0 (builder) FROM busybox:1.36\n"
        "  [1] ARG SECRET\n"
        "  [2] ENV DIR=/src\n"
        "  [3] WORKDIR /src\n"
        "  [4] RUN --network=none make $DIR\n"
        '  [5] CMD ["app"]\n'
        "stage 1 FROM --platform=linux/arm64 stage 0 (builder)\n"
        '  [1] COPY --from=builder --chown=1:1 /src/out "/dest dir/"\n'
        "  [2] EXPOSE 80\n"
        "[Warning] One or more build-args [EXTRA] were not consumed"
    )
    assert "hunter2" not in format_plan(built)


def test_format_plan_marks_onbuild_triggers() -> None:
    text = "FROM x AS p\nONBUILD RUN hook\nFROM p\n"
    lines = format_plan(plan(text)).splitlines()
    assert lines == [
        "stage 0 (p) FROM x",
        "  [1] ONBUILD RUN hook",
        "stage 1 FROM stage 0 (p)",
        "  [1] ONBUILD(from p) RUN hook",
    ]


def test_mount_type_from_a_variable_is_checked_once_expanded() -> None:
    text = "FROM x\nARG T=cache\nRUN --mount=type=$T,target=/c,uid=1 true\n"
    inst = plan(text).stages[0].steps[-1].instruction
    assert isinstance(inst, c.Run)
    assert (inst.mounts[0].type, inst.mounts[0].uid, inst.mounts[0].id) == ("cache", 1, "/c")
    with pytest.raises(DockerfileError, match=r'^Dockerfile:3: uid not allowed for "bind"'):
        plan(text, {"T": "bind"})
