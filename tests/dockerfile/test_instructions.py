"""Typed instructions from real Dockerfile text: the good cases, one or more per instruction."""

from __future__ import annotations

import pytest

from kaniko.dockerfile import commands as c
from kaniko.dockerfile.instructions import split_stages
from kaniko.dockerfile.mounts import Mount
from kaniko.dockerfile.parser import parse


def last(text: str) -> c.Command:
    """The last instruction of the only stage of ``FROM scratch`` + ``text``."""
    _, stages = split_stages(parse("FROM scratch\n" + text))
    return stages[0].commands[-1]


def test_from_plain_named_and_platform() -> None:
    meta, stages = split_stages(
        parse("FROM busybox\nFROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n")
    )
    assert meta == ()
    first, second = (s.from_ for s in stages)
    assert (first.base, first.name, first.platform) == ("busybox", "", "")
    assert (second.base, second.name, second.platform) == ("golang:1.22", "build", "$BUILDPLATFORM")
    assert second.line == 2


def test_meta_args_are_kept_apart_from_stages() -> None:
    meta, stages = split_stages(parse("ARG A=1\nARG B\nFROM x\nARG C\n"))
    assert [p for a in meta for p in a.pairs] == [c.ArgDef("A", "1"), c.ArgDef("B", None)]
    assert len(stages) == 1
    only = stages[0].commands[0]
    assert isinstance(only, c.Arg)
    assert only.pairs == (c.ArgDef("C", None),)


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("ARG A", (c.ArgDef("A"),)),
        ("ARG A=1 B", (c.ArgDef("A", "1"), c.ArgDef("B"))),
        ("ARG EMPTY=", (c.ArgDef("EMPTY", ""),)),
        ("ARG X=a=b", (c.ArgDef("X", "a=b"),)),
        ("ARG V=$OTHER", (c.ArgDef("V", "$OTHER"),)),
    ],
)
def test_arg_pairs(text: str, pairs: tuple[c.ArgDef, ...]) -> None:
    inst = last(text)
    assert isinstance(inst, c.Arg)
    assert inst.pairs == pairs


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("ENV A=1 B=2", (("A", "1"), ("B", "2"))),
        ("ENV A b c", (("A", "b c"),)),
        ('ENV A="x y"', (("A", '"x y"'),)),
        ("LABEL a=b c=d", (("a", "b"), ("c", "d"))),
        ('LABEL "com.x"="v 1"', (('"com.x"', '"v 1"'),)),
    ],
)
def test_env_and_label_pairs_keep_words_as_written(
    text: str, pairs: tuple[tuple[str, str], ...]
) -> None:
    inst = last(text)
    assert isinstance(inst, c.Env | c.Label)
    assert tuple((kv.key, kv.value) for kv in inst.pairs) == pairs


def test_run_shell_and_exec_forms() -> None:
    shell = last("RUN echo $HOME && ls")
    assert isinstance(shell, c.Run)
    assert (shell.cmd, shell.json, shell.prepend_shell) == (("echo $HOME && ls",), False, True)
    exec_ = last('RUN ["/bin/echo", "$HOME"]')
    assert isinstance(exec_, c.Run)
    assert (exec_.cmd, exec_.json, exec_.prepend_shell) == (("/bin/echo", "$HOME"), True, False)


def test_run_heredoc_kept_as_written() -> None:
    inst = last("RUN <<-EOT bash\n\techo $A\nEOT\n")
    assert isinstance(inst, c.Run)
    assert inst.cmd == ("<<-EOT bash",)
    (doc,) = inst.heredocs
    assert (doc.name, doc.content, doc.chomp, doc.expand) == ("EOT", "\techo $A\n", True, True)
    assert (inst.line, inst.end_line) == (2, 4)


def test_run_mounts_network_security() -> None:
    inst = last(
        "RUN --mount=type=cache,target=/root/.cache,sharing=locked "
        "--mount=type=secret,id=tok --mount=type=bind,from=build,source=/out,target=/in "
        "--network=none --security=insecure make"
    )
    assert isinstance(inst, c.Run)
    cache, secret, bind = inst.mounts
    assert cache == Mount(
        type="cache", target="/root/.cache", readonly=False, id="/root/.cache", sharing="locked"
    )
    assert (secret.type, secret.id, secret.target, secret.readonly) == (
        "secret",
        "tok",
        "/run/secrets/tok",
        True,
    )
    assert (bind.from_, bind.source, bind.target, bind.readonly) == ("build", "/out", "/in", True)
    assert len(inst.mount_specs) == 3
    assert (inst.network, inst.security) == ("none", "insecure")


def test_copy_flags_and_sources() -> None:
    inst = last(
        "COPY --from=builder --chown=1000:1000 --chmod=0755 --link --parents "
        "--exclude=*.md --exclude=tests a b/ /dst/"
    )
    assert isinstance(inst, c.Copy)
    assert inst.sources == ("a", "b/")
    assert inst.dest == "/dst/"
    assert (inst.from_, inst.chown, inst.chmod) == ("builder", "1000:1000", "0755")
    assert (inst.link, inst.parents, inst.exclude) == (True, True, ("*.md", "tests"))


def test_copy_bool_flag_accepts_explicit_false() -> None:
    inst = last("COPY --link=FALSE a b")
    assert isinstance(inst, c.Copy)
    assert inst.link is False


def test_copy_heredoc_sources_are_contents() -> None:
    inst = last('COPY <<EOF 2<<"RAW" keep.txt /etc/\nhi $A\nEOF\n$B\nRAW\n')
    assert isinstance(inst, c.Copy)
    assert inst.sources == ("keep.txt",)
    first, second = inst.contents
    assert (first.name, first.content, first.expand) == ("EOF", "hi $A\n", True)
    assert (second.name, second.file_descriptor, second.expand) == ("RAW", 2, False)
    assert inst.dest == "/etc/"


@pytest.mark.parametrize(
    ("flags", "unpack"),
    [("", None), ("--unpack ", True), ("--unpack=false ", False)],
)
def test_add_flags(flags: str, unpack: bool | None) -> None:
    inst = last(f"ADD {flags}--checksum=sha256:abc --keep-git-dir https://x/y.tgz /y")
    assert isinstance(inst, c.Add)
    assert (inst.checksum, inst.keep_git_dir, inst.unpack) == ("sha256:abc", True, unpack)
    assert (inst.sources, inst.dest) == (("https://x/y.tgz",), "/y")


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("WORKDIR /app/$X", "path", "/app/$X"),
        ("USER 1000:1000", "user", "1000:1000"),
        ("STOPSIGNAL SIGKILL", "signal", "SIGKILL"),
        ("MAINTAINER Jane <j@x>", "maintainer", "Jane <j@x>"),
        ("EXPOSE 8080 443/tcp 22", "ports", ("22", "443/tcp", "8080")),
        ("VOLUME /a /b", "volumes", ("/a", "/b")),
        ('VOLUME ["/data"]', "volumes", ("/data",)),
        ('SHELL ["/bin/bash", "-c"]', "shell", ("/bin/bash", "-c")),
    ],
)
def test_single_field_instructions(text: str, field: str, value: object) -> None:
    assert getattr(last(text), field) == value


@pytest.mark.parametrize(
    ("text", "cmd", "json"),
    [
        ("CMD echo hi", ("echo hi",), False),
        ('CMD ["a", "b"]', ("a", "b"), True),
        ("CMD []", (), True),
        ('ENTRYPOINT ["/entry"]', ("/entry",), True),
        ("ENTRYPOINT exec app", ("exec app",), False),
    ],
)
def test_cmd_and_entrypoint(text: str, cmd: tuple[str, ...], json: bool) -> None:
    inst = last(text)
    assert isinstance(inst, c.Cmd | c.Entrypoint)
    assert (inst.cmd, inst.json) == (cmd, json)


def test_healthcheck_none_ignores_flags() -> None:
    inst = last("HEALTHCHECK --interval=oops NONE")
    assert isinstance(inst, c.Healthcheck)
    assert inst.test == ("NONE",)
    assert inst.disabled


def test_healthcheck_exec_form_with_durations() -> None:
    inst = last(
        "HEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=100ms "
        '--start-interval=2s --retries=3 CMD ["curl", "-f", "http://x/"]'
    )
    assert isinstance(inst, c.Healthcheck)
    assert inst.test == ("CMD", "curl", "-f", "http://x/")
    assert inst.interval == 90 * 10**9
    assert inst.timeout == 1_500_000_000
    assert inst.start_period == 100_000_000
    assert inst.start_interval == 2 * 10**9
    assert inst.retries == 3


def test_healthcheck_shell_form_and_zero_interval() -> None:
    inst = last("HEALTHCHECK --interval=0 CMD curl -f http://x/ || exit 1")
    assert isinstance(inst, c.Healthcheck)
    assert inst.test == ("CMD-SHELL", "curl -f http://x/ || exit 1")
    assert (inst.interval, inst.retries) == (0, 0)


def test_onbuild_expression() -> None:
    inst = last("ONBUILD   COPY --chown=1 . /app")
    assert isinstance(inst, c.Onbuild)
    assert inst.expression == "COPY --chown=1 . /app"


def test_onbuild_expression_carries_heredoc() -> None:
    inst = last("ONBUILD RUN <<EOF\necho hi\nEOF\n")
    assert isinstance(inst, c.Onbuild)
    assert inst.expression == "RUN <<EOF\necho hi\nEOF"


def test_lines_of_continued_instruction() -> None:
    inst = last("RUN a \\\n  && b \\\n  && c\n")
    assert (inst.line, inst.end_line) == (2, 4)
    assert isinstance(inst, c.Run)
    assert inst.cmd == ("a   && b   && c",)


def test_instruction_keywords_are_case_insensitive() -> None:
    _, stages = split_stages(parse("from alpine as Base\nrun true\ncopy a b\n"))
    assert stages[0].from_.name == "base"
    assert [type(x) for x in stages[0].commands] == [c.Run, c.Copy]


def test_escape_directive_is_respected_by_parser_and_instructions() -> None:
    _, stages = split_stages(parse("# escape=`\nFROM x\nRUN a `\n  b\n"))
    run = stages[0].commands[0]
    assert isinstance(run, c.Run)
    assert run.cmd == ("a   b",)
