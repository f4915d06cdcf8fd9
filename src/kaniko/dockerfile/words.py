"""Word-level helpers shared by the Dockerfile parser, with Go's exact character rules.

BuildKit's parser is written in Go, whose notion of "space", string trimming and string
quoting differ in small ways from Python's; the helpers here reproduce Go's. It also
splits an instruction line into its name, its leading ``--flag`` words and the rest, and
splits ``key=value`` lists into words. Where BuildKit works on bytes rather than
characters (flag words, the HEALTHCHECK type word), the same is done on the UTF-8 bytes,
byte quirks included.
"""

from __future__ import annotations

import re

# Go's unicode.IsSpace: the Unicode White_Space property (Python's isspace adds \x1c-\x1f).
GO_SPACES = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)
GO_SPACE_SET = frozenset(GO_SPACES)
# Spaces as Go's unicode.IsSpace(rune(byte)) sees single bytes (a Latin-1 view of UTF-8).
BYTE_SPACES = frozenset("\t\n\v\f\r \x85\xa0")
# BuildKit's reWhitespace: ASCII blanks without the newline.
RE_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
_RE_FLAG_START = re.compile(r"[\t\n\v\f\r \x85\xa0]*--")


class LineError(Exception):
    """A logical line BuildKit rejects; the caller adds the file and line number."""


def go_trim(text: str) -> str:
    """strings.TrimSpace."""
    return text.strip(GO_SPACES)


def go_lower(text: str) -> str:
    """strings.ToLower: per-character simple case mapping.

    Python's str.lower differs in two ways: it maps U+0130 (İ) to two characters and
    lowers a word-final Σ to ς.
    """
    if text.isascii():
        return text.lower()
    return "".join("i" if ch == "\u0130" else ch.lower() for ch in text)


def go_quote(text: str) -> str:
    """Go's %q for a string (strconv.Quote), used in BuildKit's error messages."""
    out = ['"']
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == " " or ch.isprintable():
            out.append(ch)
        elif ch in named or ch == "\v":
            out.append(named.get(ch, "\\v"))
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def to_bytes_view(text: str) -> str:
    """One character per UTF-8 byte, as Go's rune(line[i]) sees the string."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def from_bytes_view(view: str) -> str:
    return view.encode("latin-1").decode("utf-8", "surrogateescape")


def split_command(line: str) -> tuple[str, tuple[str, ...], str]:
    """The instruction word, its flags and its trimmed arguments."""
    parts = RE_WHITESPACE.split(go_trim(line), maxsplit=1)
    if len(parts) < 2:
        return parts[0], (), ""
    rest = parts[1]
    if not _RE_FLAG_START.match(rest):
        return parts[0], (), go_trim(rest)
    args, flags = extract_builder_flags(rest)
    return parts[0], flags, go_trim(args)


def extract_builder_flags(line: str) -> tuple[str, tuple[str, ...]]:
    """Leading ``--name[=value]`` words (quotes and backslashes resolved) and the rest.

    Like BuildKit this walks bytes, so a UTF-8 continuation byte 0x85 or 0xA0 ends a
    word and non-ASCII bytes come out one character per byte.
    """
    ascii_only = line.isascii()
    data = line if ascii_only else to_bytes_view(line)
    size = len(data)
    words: list[str] = []
    word: list[str] = []
    in_word = in_quote = blank_ok = False
    quote = ""
    pos = 0
    rest = ""
    while pos <= size:
        ch = data[pos] if pos < size else ""
        if not in_word and not in_quote:
            if pos == size:
                break
            if ch in BYTE_SPACES:
                pos += 1
                continue
            if ch != "-" or pos + 1 == size or data[pos + 1] != "-":
                rest = data[pos:]
                break
            in_word = True
        if pos == size:
            text = "".join(word)
            if text != "--" and (blank_ok or text):
                words.append(text)
            break
        if in_word:
            if ch in BYTE_SPACES:
                in_word = False
                text = "".join(word)
                if text == "--":
                    rest = data[pos:]
                    break
                if blank_ok or text:
                    words.append(text)
                word, blank_ok = [], False
            elif ch in "'\"":
                quote, blank_ok, in_word, in_quote = ch, True, False, True
            elif ch == "\\":
                if pos + 1 < size:
                    pos += 1
                    word.append(data[pos])
            else:
                word.append(ch)
        else:  # in a quote
            if ch == quote:
                in_quote, in_word = False, True
            elif ch == "\\":
                if pos + 1 == size:
                    in_quote, in_word = False, True
                else:
                    pos += 1
                    word.append(data[pos])
            else:
                word.append(ch)
        pos += 1
    if not ascii_only:
        rest = from_bytes_view(rest)
    return rest, tuple(words)


def parse_words(rest: str, escape: str) -> list[str]:
    """Split on unquoted, unescaped spaces, keeping quotes and escapes in the words."""
    words: list[str] = []
    word: list[str] = []
    size = len(rest)
    pos = 0
    state = 0  # 0: between words, 1: in a word, 2: in a quote
    quote = ""
    blank_ok = False
    while pos < size:
        ch = rest[pos]
        if state == 0:
            if ch in GO_SPACE_SET:
                pos += 1
                continue
            state = 1
        if state == 1:
            if ch in GO_SPACE_SET:
                state = 0
                if blank_ok or word:
                    words.append("".join(word))
                word, blank_ok = [], False
                pos += 1
                continue
            if ch in "'\"":
                quote, blank_ok, state = ch, True, 2
            if ch == escape:
                if pos + 1 == size:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
        else:
            if ch == quote:
                state = 1
            if ch == escape and quote != "'":
                if pos + 1 == size:
                    state = 1
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
        pos += 1
    if state != 0 and (blank_ok or word):
        words.append("".join(word))
    return words
