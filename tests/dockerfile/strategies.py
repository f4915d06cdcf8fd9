"""Hypothesis strategies that write Dockerfiles from the grammar of the Dockerfile reference.

:func:`dockerfiles` builds whole files: an optional directive block (``escape``,
``syntax``), then instructions with random-case names (unknown ones too), ``--flags``,
shell or JSON forms (well-formed or subtly broken), ``key=value`` lists, heredocs with
bodies and terminators, continuation lines with comments and empty lines inside them,
comments and blank lines between instructions, and LF or CRLF line ends.
:func:`noise` is raw text from the characters the parser treats specially.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

NAMES = (
    *("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK"),
    *("LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME"),
    *("WORKDIR", "FOO"),
)
_SPECIAL = "\\`\"'$={}[]<>-#:,/ \t é日\u00a0x0"
_PLAIN = st.text("abcxyz019_./:@", min_size=1, max_size=6)


@st.composite
def _name(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(NAMES))
    case = draw(st.sampled_from(("upper", "lower", "mixed")))
    if case == "lower":
        return name.lower()
    if case == "mixed":
        return "".join(c.lower() if i % 2 else c for i, c in enumerate(name))
    return name


@st.composite
def _word(draw: st.DrawFn, escape: str) -> str:
    kind = draw(st.sampled_from(("plain", "plain", "double", "single", "escaped", "dollar", "odd")))
    text = draw(_PLAIN)
    if kind == "double":
        return f'"{text} {draw(_PLAIN)}"'
    if kind == "single":
        return f"'{text}'"
    if kind == "escaped":
        escaped = draw(st.sampled_from(' ="x'))
        return f"{text}{escape}{escaped}{draw(_PLAIN)}"
    if kind == "dollar":
        return draw(st.sampled_from(("$", "${", "${x:-", "${x-"))) + text + "}"
    if kind == "odd":
        return draw(st.text(_SPECIAL, min_size=1, max_size=4)) + text
    return text


@st.composite
def _flags(draw: st.DrawFn) -> list[str]:
    flags = []
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(("from", "mount", "chown", "interval", "link", "")))
        value = draw(st.sampled_from(("", "=x", "=a b", '="q v"', "='s'", "=é", "=type=cache")))
        flags.append(f"--{name}{value}".replace("a b", "a\\ b"))
    return flags


@st.composite
def _json_form(draw: st.DrawFn) -> str:
    items = draw(st.lists(st.text("ab \"'\\é<$", max_size=5), max_size=3))
    text = json.dumps(items, ensure_ascii=draw(st.booleans()))
    damage = draw(st.sampled_from(("", "", "", "tail", "comma", "open", "number", "single")))
    if damage == "tail":
        return text + " " + draw(_PLAIN)
    if damage == "comma":
        return text[:-1] + ",]"
    if damage == "open":
        return text[:-1]
    if damage == "number":
        return text[:-1] + (", 1]" if items else "1]")
    if damage == "single":
        return text.replace('"', "'")
    return text


@st.composite
def _heredoc(draw: st.DrawFn) -> tuple[str, list[str]]:
    """The heredoc word and the lines that follow the instruction (body and terminator)."""
    name = draw(st.sampled_from(("EOF", "END", "x", "a1")))
    dash = draw(st.sampled_from(("", "-")))
    quote = draw(st.sampled_from(("", "", '"', "'")))
    fd = draw(st.sampled_from(("", "", "3")))
    body = draw(
        st.lists(st.sampled_from(("echo hi", "\tindented", "", "# c", "a \\", "EOF ")), max_size=3)
    )
    closing = draw(st.sampled_from(("", "", "\t"))) if dash else ""
    terminated = draw(st.integers(0, 9)) > 0
    tail = [closing + name] if terminated else []
    return f"{fd}<<{dash}{quote}{name}{quote}", [*body, *tail]


@st.composite
def _instruction(draw: st.DrawFn, escape: str) -> list[str]:
    """One instruction as a list of physical lines (without line ends)."""
    form = draw(st.sampled_from(("words", "words", "json", "pairs", "heredoc", "empty")))
    name = draw(_name())
    if form == "heredoc" and draw(st.integers(0, 4)) > 0:  # mostly where heredocs open
        name = draw(st.sampled_from(("RUN", "run", "COPY", "Add", "ONBUILD RUN")))
    words = draw(_flags())
    after: list[str] = []
    if form == "json":
        words.append(draw(_json_form()))
    elif form == "pairs":
        for _ in range(draw(st.integers(1, 3))):
            words.append(f"{draw(_PLAIN)}={draw(_word(escape))}")
    elif form == "heredoc":
        for _ in range(draw(st.integers(1, 2))):
            word, lines = draw(_heredoc())
            words.append(word)
            after += lines
        words += draw(st.lists(_word(escape), max_size=2))
    elif form == "words":
        words += draw(st.lists(_word(escape), min_size=1, max_size=4))
    if name.lower() == "onbuild" and draw(st.booleans()):
        words.insert(0, draw(st.sampled_from(("RUN", "copy", "ENV", "CMD"))))
    lines = [name]
    for word in words:
        if draw(st.integers(0, 4)) == 0:  # continue on the next line
            lines[-1] += (
                draw(st.sampled_from((" ", ""))) + escape + draw(st.sampled_from(("", " ", "\t")))
            )
            lines += draw(
                st.lists(st.sampled_from(("# inside", "  # indented", "", "  ")), max_size=2)
            )
            lines.append(draw(st.sampled_from(("", "  ", "\t"))) + word)
        else:
            lines[-1] += draw(st.sampled_from((" ", "  ", "\t"))) + word
    return lines + after


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    """A whole Dockerfile, usually valid, sometimes one BuildKit rejects."""
    lines: list[str] = []
    escape = "\\"
    for directive in draw(st.lists(st.sampled_from(("escape", "syntax", "comment")), max_size=2)):
        if directive == "escape":
            escape = draw(st.sampled_from(("\\", "`")))
            lines.append(f"# escape={escape}")
        elif directive == "syntax":
            lines.append("# syntax=docker/dockerfile:1")
        else:
            lines.append("# a comment")
    for _ in range(draw(st.integers(1, 5))):
        lines += draw(st.lists(st.sampled_from(("", "# c", "   ")), max_size=1))
        lines += draw(_instruction(escape))
    end = draw(st.sampled_from(("\n", "\n", "\r\n")))
    return end.join(lines) + draw(st.sampled_from(("", end)))


def noise() -> st.SearchStrategy[str]:
    """Short raw texts over the characters that matter to the parser."""
    alphabet = st.sampled_from([*_SPECIAL, "\n", "\r", "R", "U", "N", "E", "O", "F", "3", "\ufeff"])
    prefix = st.sampled_from(("RUN ", "ENV ", "COPY ", "ONBUILD RUN ", "HEALTHCHECK CMD ", ""))
    return st.builds(lambda p, t: p + t, prefix, st.text(alphabet, max_size=40))
