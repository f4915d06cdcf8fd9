"""Instructions that Docker refuses: every error names ``Dockerfile:LINE:`` and the problem."""

from __future__ import annotations

import pytest

from kaniko.dockerfile.instructions import parse_instruction, split_stages
from kaniko.dockerfile.parser import parse
from kaniko.errors import DockerfileError

IN_STAGE = [
    ("FOO bar", "unknown instruction: FOO"),
    ("COPPY a b", "unknown instruction: COPPY (did you mean COPY?)"),
    # a first word unlike a keyword (a credentials file read as a Dockerfile) is not shown
    (
        '{"auths":{"r.io":{"auth":"c2VjcmV0"}}}',
        "unknown instruction: the line does not start with an instruction",
    ),
    ("password=hunter2", "unknown instruction: the line does not start with an instruction"),
    ("ghp_0123456789abcdef", "unknown instruction: the line does not start with an instruction"),
    ("FROM", "FROM requires either one or three arguments"),
    ("FROM a b", "FROM requires either one or three arguments"),
    ("FROM a AS b c", "FROM requires either one or three arguments"),
    ("FROM a AS 1st", 'invalid name for build stage: "1st", name can\'t start with a number'),
    ("FROM a AS my$stage", 'invalid name for build stage: "my$stage"'),
    ("FROM --plat=x a", "unknown flag: plat"),
    ("ARG", "ARG requires at least one argument"),
    ("ARG =x", "ARG names can not be blank"),
    ("ENV", "ENV requires at least one argument"),
    ("ENV =x", "ENV names can not be blank"),
    ("LABEL", "LABEL requires at least one argument"),
    ("COPY a", "COPY requires at least two arguments, but only one was provided"),
    ("ADD a", "ADD requires at least two arguments"),
    ("COPY a <<EOF\nx\nEOF", "COPY cannot accept a heredoc as a destination"),
    ("COPY --from a b", "missing a value on flag: from"),
    ("COPY --link=maybe a b", "expecting boolean value for flag link, not: maybe"),
    ("COPY --link= a b", "missing a value on flag: link"),
    ("COPY --chown=1 --chown=2 a b", "duplicate flag specified: chown"),
    ("COPY --checksum=sha256:x a b", "unknown flag: checksum"),
    ("ADD --from=x a b", "unknown flag: from"),
    ("ADD --parents a b", "unknown flag: parents"),
    ("RUN --devices=x true", "unknown flag: devices"),  # --device parses (BuildKit 1.14)
    ("CMD --foo=1 x", "unknown flag: foo"),
    ("WORKDIR", "WORKDIR requires exactly one argument"),
    ("USER", "USER requires exactly one argument"),
    ("STOPSIGNAL", "STOPSIGNAL requires exactly one argument"),
    ("MAINTAINER", "MAINTAINER requires exactly one argument"),
    ("EXPOSE", "EXPOSE requires at least one argument"),
    ("VOLUME", "VOLUME requires at least one argument"),
    ('VOLUME [""]', "VOLUME specified can not be an empty string"),
    ("SHELL sh -c", "SHELL requires the arguments to be in JSON form"),
    ("SHELL []", "SHELL requires at least one argument"),
    ("HEALTHCHECK", "HEALTHCHECK requires at least one argument"),
    ("HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"),
    ("HEALTHCHECK PING x", 'Unknown type "PING" in HEALTHCHECK (try CMD)'),
    ("HEALTHCHECK CMD", "Missing command after HEALTHCHECK CMD"),
    ("HEALTHCHECK CMD []", "Missing command after HEALTHCHECK CMD"),
    ("HEALTHCHECK --interval=5 CMD x", 'time: missing unit in duration "5"'),
    ("HEALTHCHECK --interval=5y CMD x", 'time: unknown unit "y" in duration "5y"'),
    ("HEALTHCHECK --timeout=10us CMD x", 'Interval "timeout" cannot be less than 1ms'),
    ("HEALTHCHECK --start-period=-1s CMD x", 'Interval "start-period" cannot be less than 1ms'),
    ("HEALTHCHECK --retries=-1 CMD x", "--retries cannot be negative (-1)"),
    ("HEALTHCHECK --retries=two CMD x", 'invalid value for --retries: "two"'),
    ("HEALTHCHECK --every=1s CMD x", "unknown flag: every"),
    ("ONBUILD", "ONBUILD requires at least one argument"),
    ("ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
    ("ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger"),
    ("ONBUILD MAINTAINER me", "MAINTAINER isn't allowed as an ONBUILD trigger"),
    ("ONBUILD BOGUS x", "unknown instruction: BOGUS"),
    ("ONBUILD COPY onlyone", "COPY requires at least two arguments"),
    ("RUN --mount=type=volume,target=/x true", 'unsupported mount type "volume"'),
    ("RUN --mount=type=cache true", "mount type=cache requires a target"),
    ("RUN --mount=type=bind,mode=0755,target=/x true", 'mode not allowed for "bind" type mounts'),
    ("RUN --mount=type=tmpfs,uid=1,target=/x true", 'uid not allowed for "tmpfs" type mounts'),
    ("RUN --mount=type=secret,from=x,id=a true", "secret mount should not have a from"),
    ("RUN --mount=type=secret true", "invalid secret mount. one of source, target required"),
    ("RUN --mount=type=secret,id=a,source=b true", "both source and id can't be set"),
    ("RUN --mount=type=bind,sharing=shared,target=/x true", "invalid cache sharing set for bind"),
    ("RUN --mount=type=cache,sharing=all,target=/x true", 'unsupported sharing value "all"'),
    ("RUN --mount=type=tmpfs,size=lots,target=/x true", "invalid value for size: lots"),
    ("RUN --mount=type=bind,size=1m,target=/x true", "unexpected key 'size' for mount type 'bind'"),
    ("RUN --mount=type=cache,uid=me,target=/x true", "invalid value me for uid"),
    ("RUN --mount=type=cache,mode=999,target=/x true", "invalid value 999 for mode"),
    ("RUN --mount=type=cache,targte=/x true", "unexpected key 'targte' in 'targte=/x'"),
    (
        "RUN --mount=type=cache,nocache,target=/x true",
        "invalid field 'nocache' must be a key=value",
    ),
    ("RUN --mount=required,target=/x true", "unexpected key 'required' for mount type 'bind'"),
    ("RUN --mount=type=bind,ro=perhaps,target=/x true", "invalid value for ro: perhaps"),
    ("RUN --mount=type=bind,from=$S,target=/x true", "'from' doesn't support variable expansion"),
    ("RUN --mount=type=cache,env=X,target=/x true", "unexpected key 'env' for mount type 'cache'"),
    ("RUN --network=bridge true", 'unsupported network mode "bridge"'),
    ("RUN --security=root true", 'unsupported security mode "root"'),
    ("RUN --mount true", "missing a value on flag: mount"),
]


@pytest.mark.parametrize(("text", "message"), IN_STAGE, ids=[t for t, _ in IN_STAGE])
def test_bad_instruction_names_file_line_and_problem(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as info:
        split_stages(parse(f"FROM scratch\n# comment\n{text}\n", path="ctx/Dockerfile"))
    assert str(info.value).startswith("ctx/Dockerfile:3: ")
    assert message in info.value.message
    assert (info.value.path, info.value.line) == ("ctx/Dockerfile", 3)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("RUN true\nFROM x\n", 1, "RUN comes before the first FROM (only ARG may)"),
        ("ARG A\nENV B=1\nFROM x\n", 2, "no build stage in current context: ENV"),
        ("# only args\nARG A=1\nARG B\n", None, "dockerfile contains no stages to build"),
    ],
)
def test_stage_structure_errors(text: str, line: int | None, message: str) -> None:
    with pytest.raises(DockerfileError) as info:
        split_stages(parse(text))
    assert info.value.line == line
    assert message in str(info.value)
    assert str(info.value).startswith("Dockerfile:" if line is None else f"Dockerfile:{line}: ")


def test_parse_instruction_names_the_path_given() -> None:
    node = parse("FROM x\nWORKDIR\n").nodes[1]
    with pytest.raises(DockerfileError, match=r"^sub/Dockerfile\.dev:2: WORKDIR requires"):
        parse_instruction(node, path="sub/Dockerfile.dev")
