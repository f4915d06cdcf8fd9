"""Unit tests of the parser's own API: what it fills in beyond BuildKit's comparison fields."""

from __future__ import annotations

import time

import pytest

from kaniko.dockerfile.ast import Heredoc
from kaniko.dockerfile.heredoc import heredoc_body
from kaniko.dockerfile.parser import parse
from kaniko.errors import DockerfileError


def test_heredoc_expand_chomp_and_fd() -> None:
    text = "RUN <<EOF <<-\"B\" 3<<'C' E<<x\na\nEOF\n\tb\n\tB\nc\nC\n"
    (node,) = parse(text).nodes
    assert node.heredocs == (
        Heredoc(name="EOF", content="a\n", file_descriptor=0, expand=True, chomp=False),
        Heredoc(name="B", content="\tb\n", file_descriptor=0, expand=False, chomp=True),
        Heredoc(name="C", content="c\n", file_descriptor=3, expand=False, chomp=False),
    )
    assert (node.start_line, node.end_line) == (1, 7)
    assert node.value == ("<<EOF <<-\"B\" 3<<'C' E<<x",)


def test_partly_quoted_delimiter_is_not_expanded() -> None:
    (node,) = parse("COPY <<E'O'F /x\n$HOME\nEOF\n").nodes
    assert node.heredocs[0].name == "EOF"
    assert node.heredocs[0].expand is False


def test_chomp_keeps_raw_content_and_body_strips_leading_tabs() -> None:
    (node,) = parse("RUN <<-EOF\n\t\tx\n\ty \t\n\nEOF\n").nodes
    (doc,) = node.heredocs
    assert doc.content == "\t\tx\n\ty \t\n\n"  # BuildKit stores the body as written
    assert heredoc_body(doc) == "x\ny \t\n\n"
    plain = Heredoc(name="E", content="\tx\n")
    assert heredoc_body(plain) == "\tx\n"


def test_default_escape_and_no_directives() -> None:
    result = parse("FROM a\n")
    assert result.escape == "\\"
    assert result.directives == {}
    assert result.path == "Dockerfile"


def test_directives_are_recorded_with_lowercase_keys() -> None:
    result = parse("# syntax = docker/dockerfile:1.4 extra \n#ESCAPE=`\nRUN a `\n  b\n")
    assert result.directives == {"syntax": "docker/dockerfile:1.4 extra", "escape": "`"}
    assert result.escape == "`"
    assert result.nodes[0].value == ("a   b",)


def test_unknown_directive_ends_the_block() -> None:
    result = parse("# foo=bar\n# escape=`\nRUN a `\n")
    assert result.directives == {}
    assert result.escape == "\\"


def test_check_directive_is_known_as_in_current_buildkit() -> None:
    # BuildKit 0.12 (the test oracle) predates `check`; newer BuildKit records it and
    # keeps reading directives after it.
    result = parse("# check=skip=all\n# escape=`\nRUN a `\n b\n")
    assert result.directives == {"check": "skip=all", "escape": "`"}
    assert result.nodes[0].value == ("a  b",)
    with pytest.raises(DockerfileError) as info:
        parse("# check=a\n# CHECK=b\nFROM x\n")
    assert str(info.value) == "Dockerfile:2: only one check parser directive can be used"


def test_bytes_input_with_bom_equals_text_input() -> None:
    text = "# escape=`\nFROM a\nRUN echo é `\n  done\n"
    expected = parse(text)
    assert parse(text.encode()) == expected
    assert parse(b"\xef\xbb\xbf" + text.encode()) == expected
    assert parse("\ufeff" + text) == expected


def test_undecodable_bytes_survive_a_round_trip() -> None:
    (node,) = parse(b"RUN echo \xff\xfe\n").nodes
    assert node.value[0].encode("utf-8", "surrogateescape") == b"echo \xff\xfe"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "file with no instructions"),
        ("# a\n\n# b\n", 3, "file with no instructions"),
        ("# escape=x\nFROM a", 1, "invalid escape token 'x' does not match ` or \\"),
        ("# escape=`\n# escape=\\\nFROM a", 2, "only one escape parser directive can be used"),
        (
            "FROM a\nENV a=1 \\\n  b\n",
            2,
            'Syntax error - can\'t find = in "b". Must be of the form: name=value',
        ),
        ("FROM a\n\n  LABEL x\n", 3, "LABEL must have two arguments"),
        (
            "FROM a\nCMD [1]\n",
            2,
            "when using JSON array syntax, arrays must be comprised of strings only",
        ),
        ("FROM a\n\nRUN <<EOF\nhi\n", 3, "unterminated heredoc"),
        (
            "FROM a\nRUN " + "a" * 70000 + "\nRUN b\n",
            2,
            "dockerfile line greater than max allowed size of 65535",
        ),
    ],
)
def test_errors_name_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(DockerfileError) as info:
        parse(text, path="sub/Dockerfile.dev")
    assert (info.value.line, info.value.message) == (line, message)
    assert str(info.value) == f"sub/Dockerfile.dev:{line}: {message}"


def test_nodes_carry_lowercase_names_flags_and_lines() -> None:
    text = (
        "FROM a AS b\n"
        "run --mount=type=cache,target=/x \\\n"
        "  echo hi\n"
        "onbuild COPY --from=b x y\n"
        "FOO bar\n"
        'CMD ["a", "b"]\n'
    )
    from_, run, onbuild, foo, cmd = parse(text).nodes
    assert (from_.cmd, from_.value, from_.start_line) == ("from", ("a", "AS", "b"), 1)
    assert run.cmd == "run"
    assert run.flags == ("--mount=type=cache,target=/x",)
    assert run.value == ("echo hi",)
    assert (run.start_line, run.end_line) == (2, 3)
    assert run.original == "run --mount=type=cache,target=/x   echo hi"
    assert (onbuild.cmd, onbuild.value, onbuild.flags) == ("onbuild", (), ())
    assert onbuild.sub is not None
    assert onbuild.sub.cmd == "copy"
    assert onbuild.sub.flags == ("--from=b",)
    assert onbuild.sub.value == ("x", "y")
    assert onbuild.sub.original == "COPY --from=b x y"
    assert (onbuild.sub.start_line, onbuild.sub.end_line) == (4, 4)
    assert (foo.cmd, foo.value) == ("foo", ("",))  # unknown: kept, arguments dropped
    assert (cmd.json, cmd.value) == (True, ("a", "b"))


def test_onbuild_trigger_heredocs_stay_on_the_onbuild_node() -> None:
    (node,) = parse("ONBUILD RUN <<EOF\nhi\nEOF\n").nodes
    assert node.heredocs == (Heredoc(name="EOF", content="hi\n"),)
    assert node.sub is not None and node.sub.heredocs == ()
    assert (node.start_line, node.end_line) == (1, 3)


def test_env_and_label_pairs() -> None:
    env, legacy, label = parse('ENV a=1 b="x y"\nENV k v  w\nLABEL "a b"=c\n').nodes
    assert env.value == ("a", "1", "b", '"x y"')
    assert legacy.value == ("k", "v  w")
    assert label.value == ('"a b"', "c")


def test_empty_continuation_lines_warn() -> None:
    result = parse("FROM a\nRUN a \\\n\n  b\n")
    assert result.nodes[1].value == ("a   b",)
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("Dockerfile:2: empty continuation line")


def test_thousand_instructions_parse_quickly() -> None:
    block = (
        "FROM base:{i} AS s{i}\n"
        "RUN apt-get update && \\\n    apt-get install -y pkg{i}\n"
        'ENV A{i}=1 B{i}="two words"\n'
        "COPY --from=s{i} --chown=1:1 /a /b\n"
        "RUN <<EOF\necho {i}\nEOF\n"
        'LABEL a{i}=b c="d"\n'
        'CMD ["python", "-m", "app"]\n'
        "ARG X{i}=1\n"
    )
    text = "".join(block.format(i=i) for i in range(125))
    started = time.perf_counter()
    result = parse(text)
    elapsed = time.perf_counter() - started
    assert len(result.nodes) == 1000
    assert elapsed < 0.5  # about 15 ms on a developer machine; generous for CI


def test_byte_level_splits_keep_the_bytes() -> None:
    # BuildKit splits flag words and the HEALTHCHECK type word on bytes, and takes the
    # second byte of U+00A0 (0xC2 0xA0) for a space; the orphaned 0xC2 is kept here as a
    # surrogate escape, so encoding with surrogateescape gives BuildKit's exact bytes.
    (health,) = parse("HEALTHCHECK 0=\u00a0x").nodes
    assert health.value == ("0=\udcc2", "x")
    (run,) = parse("RUN --a=é b").nodes
    assert run.flags == ("--a=Ã©",)  # one character per byte, as Go's rune(byte)
