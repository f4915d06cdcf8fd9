"""Table tests of word expansion: facts from BuildKit's lexer tests and the Dockerfile reference.

The envVarTest facts run against BuildKit's fixed environment (``PWD=/home``,
``SHELL=bash``, ``KOREAN=한국어``, ``NULL=``); the rows that BuildKit expects to fail are
in test_shell_errors.py.
"""

from __future__ import annotations

import pytest

from kaniko.dockerfile.shell import ShellLex

BASE_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}

# (word, expected ProcessWord result) in BASE_ENV.
ENV_VAR_CASES = [
    ("hello", "hello"),
    ("he'll'o", "hello"),
    (r"he\'llo", "he'llo"),
    (r"abc\tdef", "abctdef"),
    (r'"abc\tdef"', r"abc\tdef"),
    (r'"abc\\tdef"', r"abc\tdef"),
    (r"'abc\tdef'", r"abc\tdef"),
    ("hello\\", "hello"),
    ("hello\\\\", "hello\\"),
    ('"hel\'lo"', "hel'lo"),
    ("'hello\\'", "hello\\"),
    (r"'hello\there'", r"hello\there"),
    (r"'hello\\there'", r"hello\\there"),
    ("\"''\"", "''"),
    ("$.", "$."),
    ("$1", ""),
    ("he$1x", "hex"),
    ("he$.x", "he$.x"),
    ("he$pwd.", "he."),  # names are case-sensitive off Windows
    ("he$PWD", "he/home"),
    (r"he\$PWD", "he$PWD"),
    (r"he\\$PWD", r"he\/home"),
    (r'"he\$PWD"', "he$PWD"),
    (r'"he\\$PWD"', r"he\/home"),
    (r"\${}", "${}"),
    (r"\${}aaa", "${}aaa"),
    (r"he\${}", "he${}"),
    (r"he\${}xx", "he${}xx"),
    ("he${hi}", "he"),
    ("he${hi}xx", "hexx"),
    ("he${PWD}", "he/home"),
    ("he${XXX:-000}xx", "he000xx"),
    ("he${PWD:-000}xx", "he/homexx"),
    ("he${XXX:-$PWD}xx", "he/homexx"),
    ("he${XXX:-${PWD:-yyy}}xx", "he/homexx"),
    ("he${XXX:-${YYY:-yyy}}xx", "heyyyxx"),
    ("he${XXX:+${PWD}}xx", "hexx"),
    ("he${PWD:+${XXX}}xx", "hexx"),
    ("he${PWD:+${SHELL}}xx", "hebashxx"),
    ("he${XXX:+000}xx", "hexx"),
    ("he${PWD:+000}xx", "he000xx"),
    ("'he${XX}'", "he${XX}"),
    ('"he${PWD}"', "he/home"),
    ("\"he'$PWD'\"", "he'/home'"),
    ('"$PWD"', "/home"),
    ("'$PWD'", "$PWD"),
    (r"'\$PWD'", r"\$PWD"),
    ("'\"hello\"'", '"hello"'),
    (r"'he\$PWD'", r"he\$PWD"),
    ("he${PWD:+${PWD}:}xx", "he/home:xx"),
    (r"he${XXX:-\$PWD:}xx", "he$PWD:xx"),
    (r"he${XXX:-\${PWD}z}xx", "he${PWDz}xx"),
    ("안녕하세요", "안녕하세요"),
    ("안'녕'하세요", "안녕하세요"),
    (r"안녕\'하세요", "안녕'하세요"),
    (r"안녕\t하세요", "안녕t하세요"),
    (r'"안녕\t하세요"', r"안녕\t하세요"),
    ("안녕하세요\\\\", "안녕하세요\\"),
    ("'안녕하세요\\'", "안녕하세요\\"),
    ("안녕$1x", "안녕x"),
    ("안녕$.x", "안녕$.x"),
    ("안녕$pwd.", "안녕."),
    (r"안녕\\$PWD", r"안녕\/home"),
    ("안녕${XXX:-${YYY:-yyy}}xx", "안녕yyyxx"),
    ("안녕${PWD:+${SHELL}}xx", "안녕bashxx"),
    ("\"안녕'$PWD'\"", "안녕'/home'"),
    ("$KOREAN", "한국어"),
    ("안녕$KOREAN", "안녕한국어"),
    ("${aaa}}", "}"),
    ("${aaa:-bbb}}", "bbb}"),
    ("${aaa:-bbb}", "bbb"),
    ("${aaa:-${bbb:-ccc}}", "ccc"),
    ("${aaa:-bbb {foo}", "bbb {foo"),
    # An empty value is "set" for -, + and ?; the ":" forms treat it as unset.
    ("${NULL-x}", ""),
    ("${NULL:-x}", "x"),
    ("${NULL+x}", "x"),
    ("${NULL:+x}", ""),
    ("${NULL?x}", ""),
]


@pytest.mark.parametrize(("word", "expected"), ENV_VAR_CASES)
def test_env_var_facts(word: str, expected: str) -> None:
    assert ShellLex().process_word(word, BASE_ENV) == expected


# (word, env, expected result, expected matched, expected unmatched)
MATCH_CASES = [
    ("x", {"DUMMY": "dummy"}, "x", set(), set()),
    ("x ${UNUSED}", {"DUMMY": "dummy"}, "x ", set(), {"UNUSED"}),
    ("x ${FOO}", {"FOO": "y"}, "x y", {"FOO"}, set()),
    ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx  ccc",
     {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx bbb ccc",
     {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:-}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}, set()),
    ("${FOO:-}", {}, "", set(), {"FOO"}),
    ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa bbb ",
     {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa  ",
     {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}, set()),
    ("${BAR?bbb}", {"FOO": "xxx", "BAR": ""}, "", {"BAR"}, set()),
    ("${FOO:?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}, set()),
    (r"${FOO#()[]{\}^$.\*\?|\\}", {"FOO": "()[]{}^$.*?|\\x"}, "x", {"FOO"}, set()),
    (r"${FOO%%\**}", {"FOO": "xx**"}, "xx", {"FOO"}, set()),
    ("${FOO#*x*y}", {"FOO": "xxyy"}, "y", {"FOO"}, set()),
    ("${FOO#*}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": "x"}, "xyy", {"FOO", "BAR"}, set()),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy", {"FOO", "BAR"}, set()),
    ("${FOO#}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO##*x}", {"FOO": "xxyy"}, "yy", {"FOO"}, set()),
    ("${FOO##}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    (r"${FOO#?\?}", {"FOO": "???y"}, "?y", {"FOO"}, set()),
    ("${ABC:-.}${FOO%x}${ABC:-.}", {"FOO": "xxyy"}, ".xxyy.", {"FOO"}, {"ABC"}),
    (r"${FOO%%\**\*}", {"FOO": "a***yy*"}, "a", {"FOO"}, set()),
    ("${FOO%}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO%%$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy", {"FOO", "BAR"}, set()),
    ("${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", {"FOO": "/foo*/*/*.txt", "NEEDLE": "\\*/"},
     "/foo.*/*.txt - /foo..*.txt", {"FOO", "NEEDLE"}, set()),
    ("${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", {"FOO": "/tmp/tmp/bar.txt", "NEEDLE": "/tmp"},
     "/tmp/bar.txt - /bar.txt", {"FOO", "NEEDLE"}, set()),
    ("${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
     {"FOO": "/a/foo/b/c.txt", "NEEDLE": "/?/", "REPLACEMENT": "/"},
     "/foo/b/c.txt - /foo/c.txt", {"FOO", "NEEDLE", "REPLACEMENT"}, set()),
    ("${FOO/$NEEDLE/$REPLACEMENT}",
     {"FOO": "http://google.de", "NEEDLE": "http://", "REPLACEMENT": "https://"},
     "https://google.de", {"FOO", "NEEDLE", "REPLACEMENT"}, set()),
    (r"${FOO//\//\/}", {"FOO": "/tmp/foo.txt"}, r"\/tmp\/foo.txt", {"FOO"}, set()),
    ("${FOO/$BAR/ww}", {"FOO": "xxyy", "BAR": ""}, "wwxxyy", {"FOO", "BAR"}, set()),
    ("${FOO///}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO///}", {}, "", set(), {"FOO"}),
]  # fmt: skip


@pytest.mark.parametrize(("word", "env", "expected", "matched", "unmatched"), MATCH_CASES)
def test_matches(
    word: str, env: dict[str, str], expected: str, matched: set[str], unmatched: set[str]
) -> None:
    got = ShellLex().process_word_with_matches(word, env)
    assert (got.result, got.matched, got.unmatched) == (expected, matched, unmatched)


RELEASE = "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"TARGETARCH": "arm", "TARGETVARIANT": "v7"}, "something-v1.2.3.linux-arm-v7.tar.gz"),
        ({"TARGETARCH": "arm64", "TARGETVARIANT": ""}, "something-v1.2.3.linux-arm64.tar.gz"),
        ({"TARGETARCH": "arm64"}, "something-v1.2.3.linux-arm64.tar.gz"),
    ],
)
def test_platform_release_name(extra: dict[str, str], expected: str) -> None:
    env = {"VERSION": "v1.2.3", "TARGETOS": "linux", **extra}
    assert ShellLex().process_word(RELEASE, env) == expected


# The "Environment replacement" section of the Dockerfile reference.
REFERENCE_CASES = [
    ("${FOO}", {"FOO": "/bar"}, "/bar"),
    ("$FOO", {"FOO": "/bar"}, "/bar"),
    (r"\$FOO", {"FOO": "/bar"}, "$FOO"),
    ("${foo}_bar", {"foo": "x"}, "x_bar"),
    ("$foo_bar", {"foo": "x"}, ""),
    ("${variable:-word}", {}, "word"),
    ("${variable:-word}", {"variable": "v"}, "v"),
    ("${variable:+word}", {"variable": "v"}, "word"),
    ("${variable:+word}", {}, ""),
    ("${string#*ba}", {"string": "foobarbaz"}, "rbaz"),
    ("${string##*ba}", {"string": "foobarbaz"}, "z"),
    ("${string%ba*}", {"string": "foobarbaz"}, "foobar"),
    ("${string%%ba*}", {"string": "foobarbaz"}, "foo"),
    ("${string/ba/fo}", {"string": "foobarbaz"}, "fooforbaz"),
    ("${string//ba/fo}", {"string": "foobarbaz"}, "fooforfoz"),
    ("${IMAGE%:*}:stable", {"IMAGE": "busybox:latest"}, "busybox:stable"),
    ("${VERSION%.*}", {"VERSION": "1.2.3"}, "1.2"),
    ("${VERSION%%.*}", {"VERSION": "1.2.3"}, "1"),
    ("base${TARGETARCH#riscv64}", {"TARGETARCH": "riscv64"}, "base"),
    ("base${TARGETARCH#riscv64}", {"TARGETARCH": "amd64"}, "baseamd64"),
    ("foo-${ARCH//arm64/aarch64}.tgz", {"ARCH": "arm64"}, "foo-aarch64.tgz"),
    ("${P-http://proxy:8080}", {}, "http://proxy:8080"),
    ("${P-http://proxy:8080}", {"P": ""}, ""),
]


@pytest.mark.parametrize(("word", "env", "expected"), REFERENCE_CASES)
def test_reference_examples(word: str, env: dict[str, str], expected: str) -> None:
    assert ShellLex().process_word(word, env) == expected


# wordsTest: each row runs with the environment built up by the rows before it.
WORDS_ENV = {"hi": "hi", "space": "abc  def", "leading": "  ab c", "trailing": "ab c   "}
WORDS_CASES = [
    ("hello", ["hello"]),
    ("hello${nothing}bye", ["hellobye"]),
    ("hello${hi}bye", ["hellohibye"]),
    ("hello${space}bye", ["helloabc", "defbye"]),
    ('hello"${space}"bye', ["helloabc  defbye"]),
    ('hello "${space}"bye', ["hello", "abc  defbye"]),
    ("hello${leading}def", ["hello", "ab", "cdef"]),
    ('hello"${leading}" def', ["hello  ab c", "def"]),
    ('hello"${leading}"', ["hello  ab c"]),
    ("hello${leading}", ["hello", "ab", "c"]),
    ("hello${trailing}", ["helloab", "c"]),
    ("hello${trailing}d", ["helloab", "c", "d"]),
    ('hello"${trailing}"d', ["helloab c   d"]),
    ('hel"lo${trailing}"', ["helloab c   "]),
    ('hello" there  "', ["hello there  "]),
    ("hello there     ", ["hello", "there"]),
    (r"hello\ there", ["hello there"]),
    (r"hello\" there", ['hello"', "there"]),
]


@pytest.mark.parametrize(("word", "expected"), WORDS_CASES)
def test_words_facts(word: str, expected: list[str]) -> None:
    assert ShellLex().process_words(word, WORDS_ENV) == expected
