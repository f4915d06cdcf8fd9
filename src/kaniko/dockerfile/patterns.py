"""Go-compatible pieces of moby's ``.dockerignore`` pattern matcher.

moby/patternmatcher accepts a pattern when Go's ``filepath.Match(pattern, ".")`` reports no
error, then classifies it: a plain string compared for equality, a ``X**`` prefix, a ``**X``
suffix, or a Go (RE2) regular expression that it builds by rewriting the glob. Each step has
quirks (``[!a]`` is not a negation, ``**foo`` also matches ``barfoo``, ``[*]`` means something
odd, ``\\d`` is a digit class), and Docker, BuildKit and the Go kaniko all share them. This
module reproduces the steps faithfully:

* :func:`go_clean` is Go's ``filepath.Clean`` for '/'-separated paths;
* :func:`check_glob` raises :class:`BadPattern` exactly when ``filepath.Match(p, ".")`` fails;
* :func:`classify` returns moby's match kind for a pattern and its regex source;
* :func:`go_regex_to_python` turns that Go regex source into an equivalent Python one.
"""

from __future__ import annotations

import re

EXACT, PREFIX, SUFFIX, REGEX = "exact", "prefix", "suffix", "regex"

# Go's unicode.IsSpace, which strings.TrimSpace uses (Python's str.strip also strips \x1c-\x1f).
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
GO_SPACE += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

_MAX_RUNE = 0x10FFFF
_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = "01234567"
_C_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_Ranges = list[tuple[int, int]]
_DIGIT, _UPPER, _LOWER = (0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)
_PERL: dict[str, _Ranges] = {
    "d": [_DIGIT],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [_DIGIT, _UPPER, (0x5F, 0x5F), _LOWER],
}
_POSIX: dict[str, _Ranges] = {
    "alnum": [_DIGIT, _UPPER, _LOWER],
    "alpha": [_UPPER, _LOWER],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [_DIGIT],
    "graph": [(0x21, 0x7E)],
    "lower": [_LOWER],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [_UPPER],
    "word": [_DIGIT, _UPPER, (0x5F, 0x5F), _LOWER],
    "xdigit": [_DIGIT, (0x41, 0x46), (0x61, 0x66)],
}


class BadPattern(ValueError):
    """A pattern that Go's filepath.Match or Go's regexp compiler would reject."""


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` on a '/'-separated path (purely lexical)."""
    rooted = path.startswith("/")
    parts: list[str] = []
    for name in path.split("/"):
        if name in ("", "."):
            continue
        if name != "..":
            parts.append(name)
        elif parts and parts[-1] != "..":
            parts.pop()
        elif not rooted:
            parts.append("..")
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


# --- filepath.Match, used only to decide whether a pattern is accepted --------------------


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    """Split off leading stars and the following star-free chunk (as Go's scanChunk)."""
    stripped = pattern.lstrip("*")
    star = len(stripped) != len(pattern)
    in_range, i = False, 0
    while i < len(stripped):
        ch = stripped[i]
        if ch == "\\":
            i += 1 if i + 1 < len(stripped) else 0
        elif ch == "[":
            in_range = True
        elif ch == "]":
            in_range = False
        elif ch == "*" and not in_range:
            return star, stripped[:i], stripped[i:]
        i += 1
    return star, stripped, ""


def _glob_class_char(chunk: str, i: int) -> tuple[str, int]:
    if i >= len(chunk) or chunk[i] in "-]":
        raise BadPattern("syntax error in pattern")
    if chunk[i] == "\\":
        i += 1
        if i >= len(chunk):
            raise BadPattern("syntax error in pattern")
    ch = chunk[i]
    if "\udc80" <= ch <= "\udcff" or i + 1 >= len(chunk):  # invalid UTF-8, or class unclosed
        raise BadPattern("syntax error in pattern")
    return ch, i + 1


def _match_chunk(chunk: str, name: str) -> str | None:
    """Match one chunk at the start of name; parse all of it even after a mismatch."""
    failed, i = False, 0
    while i < len(chunk):
        failed = failed or not name
        ch = chunk[i]
        if ch == "[":
            r = None if failed else name[0]
            name = name if failed else name[1:]
            i += 1
            negated = i < len(chunk) and chunk[i] == "^"
            i += negated
            matched, count = False, 0
            while not (i < len(chunk) and chunk[i] == "]" and count > 0):
                lo, i = _glob_class_char(chunk, i)
                hi = lo
                if chunk[i] == "-":
                    hi, i = _glob_class_char(chunk, i + 1)
                matched = matched or (r is not None and lo <= r <= hi)
                count += 1
            i += 1
            failed = failed or matched == negated
            continue
        if ch == "?":
            if not failed:
                failed, name = name[0] == "/", name[1:]
            i += 1
            continue
        if ch == "\\":
            i += 1
            if i >= len(chunk):
                raise BadPattern("syntax error in pattern")
        if not failed:
            failed, name = chunk[i] != name[0], name[1:]
        i += 1
    return None if failed else name


def check_glob(pattern: str, name: str = ".") -> bool:
    """Go's ``filepath.Match(pattern, name)``; raises BadPattern where Go returns an error.

    Like Go, it parses only the chunks it reaches, so ``a*[`` matched against ``.`` passes.
    """
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return "/" not in name
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if not star:
            return False
        for i, ch in enumerate(name):
            if ch == "/":
                return False
            rest = _match_chunk(chunk, name[i + 1 :])
            if rest is not None and (pattern or not rest):
                name = rest
                break
        else:
            return False
    return not name


# --- moby's compile step -------------------------------------------------------------------


def classify(pattern: str) -> tuple[str, str]:
    """Return moby's match kind for a cleaned pattern and the Go regex source it builds."""
    out, kind, i, n = ["^"], EXACT, 0, len(pattern)
    while i < n:
        ch, first = pattern[i], i == 0
        i += 1
        if ch == "*" and i < n and pattern[i] == "*":
            i += 1
            if i < n and pattern[i] == "/":
                i += 1
            if i < n:
                out.append("(.*/)?")
                kind = REGEX
            elif kind == EXACT:
                kind = PREFIX
            else:
                out.append(".*")
                kind = REGEX
            if first:
                kind = SUFFIX
        elif ch in "*?":
            out.append("[^/]*" if ch == "*" else "[^/]")
            kind = REGEX
        elif ch in ".+()|{}$":
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                out.append("\\" + pattern[i])
                i += 1
                kind = REGEX
            else:
                out.append("\\")
        else:
            out.append(ch)
            kind = REGEX if ch in "[]" else kind
    if kind == REGEX:
        out.append("$")
    return kind, "".join(out)


# --- Go RE2 syntax -> Python re syntax -----------------------------------------------------


def _literal(code: int) -> str:
    return re.escape(chr(code))


def _complement(ranges: _Ranges) -> _Ranges:
    gaps, start = [], 0
    for lo, hi in sorted(ranges):
        if lo > start:
            gaps.append((start, lo - 1))
        start = max(start, hi + 1)
    if start <= _MAX_RUNE:
        gaps.append((start, _MAX_RUNE))
    return gaps


def _class_source(ranges: _Ranges, negated: bool) -> str:
    def one(code: int) -> str:
        return chr(code) if chr(code).isascii() and chr(code).isalnum() else f"\\U{code:08x}"

    body = "".join(one(lo) if lo == hi else f"{one(lo)}-{one(hi)}" for lo, hi in ranges)
    return f"[{'^' if negated else ''}{body}]"


def _escape_char(src: str, i: int) -> tuple[int, int]:
    """Parse the escape at src[i] == '\\' as Go's parseEscape; return (code point, next i)."""
    if i + 1 >= len(src):
        raise BadPattern("trailing backslash at end of expression")
    ch, j, n = src[i + 1], i + 2, len(src)
    if ch.isascii() and not ch.isalnum():
        return ord(ch), j
    if ch in _OCTAL and (ch == "0" or (j < n and src[j] in _OCTAL)):
        value = int(ch)
        for _ in range(2):
            if j < n and src[j] in _OCTAL:
                value, j = value * 8 + int(src[j]), j + 1
        return value, j
    if ch == "x" and j < n:
        if src[j] == "{":
            close = src.find("}", j + 1)
            digits = src[j + 1 : close] if close > j + 1 else ""
            if digits and set(digits) <= _HEX and int(digits, 16) <= _MAX_RUNE:
                return int(digits, 16), close + 1
        elif j + 1 < n and src[j] in _HEX and src[j + 1] in _HEX:
            return int(src[j : j + 2], 16), j + 2
    if ch in _C_ESCAPES:
        return _C_ESCAPES[ch], j
    raise BadPattern(f"invalid escape sequence: \\{ch}")


def _class_char(src: str, i: int) -> tuple[int, int]:
    if i >= len(src):
        raise BadPattern("missing closing ]")
    return _escape_char(src, i) if src[i] == "\\" else (ord(src[i]), i + 1)


def _parse_class(src: str, i: int) -> tuple[str, int]:
    """Parse the Go character class opening at src[i]; return Python source and next i."""
    n, i = len(src), i + 1
    negated = i < n and src[i] == "^"
    i += negated
    ranges: _Ranges = []
    first = True
    while first or i >= n or src[i] != "]":
        if i >= n:
            raise BadPattern("missing closing ]")
        first = False
        if src.startswith("[:", i) and (end := src.find(":]", i + 2)) >= 0:
            name = src[i + 2 : end]
            group = _POSIX.get(name.removeprefix("^"))
            if group is None:
                raise BadPattern(f"invalid character class range: [:{name}:]")
            ranges += _complement(group) if name.startswith("^") else group
            i = end + 2
            continue
        if src.startswith("\\", i) and i + 1 < n and src[i + 1] in "pPdDsSwW":
            ranges += _perl_class(src[i + 1])
            i += 2
            continue
        lo, i = _class_char(src, i)
        hi = lo
        if i + 1 < n and src[i] == "-" and src[i + 1] != "]":
            hi, i = _class_char(src, i + 1)
            if hi < lo:
                raise BadPattern("invalid character class range")
        ranges.append((lo, hi))
    return _class_source(ranges, negated), i + 1


def _perl_class(letter: str) -> _Ranges:
    if letter in "pP":
        raise BadPattern("Unicode classes (\\p, \\P) are not supported")
    group = _PERL[letter.lower()]
    return _complement(group) if letter.isupper() else group


def _outer_escape(src: str, i: int) -> tuple[str, int, bool]:
    """Translate the escape at src[i] outside a class: (source, next i, repeatable)."""
    ch = src[i + 1] if i + 1 < len(src) else ""
    if ch in ("A", "z", "b", "B"):
        return ("\\Z" if ch == "z" else "\\" + ch), i + 2, False
    if ch == "Q":
        end = src.find("\\E", i + 2)
        text = src[i + 2 :] if end < 0 else src[i + 2 : end]
        return re.escape(text), (len(src) if end < 0 else end + 2), bool(text)
    if ch and ch in "pPdDsSwW":
        return _class_source(_perl_class(ch), False), i + 2, True
    code, j = _escape_char(src, i)
    return _literal(code), j, True


def go_regex_to_python(src: str) -> str:
    """Translate Go regexp source (as moby builds it) into Python ``re`` source.

    Go's ``^``/``$`` only ever mean start/end of text here, ``.`` stops at newlines in both,
    and classes are re-emitted member by member so Go's class syntax (``[[:alpha:]]``, ``[]a]``,
    a ``[`` inside a class) keeps its Go meaning. Unsupported Go syntax raises BadPattern.
    """
    out: list[str] = []
    i, n, depth, repeatable = 0, len(src), 0, False
    while i < n:
        ch = src[i]
        if ch == "\\":
            piece, i, repeatable = _outer_escape(src, i)
            out.append(piece)
            continue
        if ch == "[":
            piece, i = _parse_class(src, i)
            out.append(piece)
            repeatable = True
            continue
        i += 1
        if ch in "*+?":
            if not repeatable:
                raise BadPattern(f"missing argument to repetition operator: {ch}")
            if i < n and src[i] == "?":
                ch, i = ch + "?", i + 1
            out.append(ch)
            repeatable = False
        elif ch == "(":
            if i < n and src[i] == "?":
                raise BadPattern("group flags are not supported")
            out.append("(?:")
            depth, repeatable = depth + 1, False
        elif ch == ")":
            if depth == 0:
                raise BadPattern("unexpected )")
            out.append(")")
            depth, repeatable = depth - 1, True
        elif ch in "|^$":
            out.append({"|": "|", "^": "\\A", "$": "\\Z"}[ch])
            repeatable = False
        else:  # '.' or a literal ('{' never reaches here unescaped from moby's rewrite)
            out.append("." if ch == "." else _literal(ord(ch)))
            repeatable = True
    if depth:
        raise BadPattern("missing closing )")
    return "".join(out)


def literal_prefix(pattern: str, kind: str) -> str:
    """The text every path matched by the pattern starts with (possibly empty)."""
    if kind == SUFFIX:
        return ""
    if kind == PREFIX:
        return pattern[:-2]
    return re.split(r"[*?\[\]\\]", pattern, maxsplit=1)[0]
