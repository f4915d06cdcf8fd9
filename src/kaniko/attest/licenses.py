"""Declared license strings → SPDX license expressions.

Package metadata spells licenses many ways: SPDX ids (``MIT``, ``Apache-2.0``), older SPDX
forms (``GPL-2.0+``), Debian's short names (``GPL-2+``, ``Expat``, ``BSD-3-clause``,
``public-domain``), free text (``BSD License``) or PyPI classifiers. :func:`normalize`
maps Debian's names to SPDX ids, then lets ``license-expression`` (its SPDX license
index) parse and normalise the expression. Anything that is not an SPDX id becomes a
``LicenseRef-`` id whose text is the original string, as SPDX 2.3 requires (§10): the
document then lists it under ``hasExtractedLicensingInfos``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from license_expression import ExpressionError, Licensing, get_spdx_licensing

# Debian copyright-format short names (DEP-5 §"License specification") that are not SPDX.
_GNU = {
    "GPL-1": "GPL-1.0",
    "GPL-2": "GPL-2.0",
    "GPL-3": "GPL-3.0",
    "LGPL-2": "LGPL-2.0",
    "LGPL-2.0": "LGPL-2.0",
    "LGPL-2.1": "LGPL-2.1",
    "LGPL-3": "LGPL-3.0",
    "AGPL-3": "AGPL-3.0",
    "GFDL-1.1": "GFDL-1.1",
    "GFDL-1.2": "GFDL-1.2",
    "GFDL-1.3": "GFDL-1.3",
    "GPL-1.0": "GPL-1.0",
    "GPL-2.0": "GPL-2.0",
    "GPL-3.0": "GPL-3.0",
    "LGPL-3.0": "LGPL-3.0",
    "AGPL-3.0": "AGPL-3.0",
}
_ALIASES = {
    "expat": "MIT",
    "mit/x11": "MIT",
    "x11": "X11",
    "artistic": "Artistic-1.0-Perl",
    "artistic-1": "Artistic-1.0",
    "artistic-2": "Artistic-2.0",
    "apache-2": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "psf-2": "PSF-2.0",
    "zlib": "Zlib",
    "isc": "ISC",
    "bsd": "BSD-3-Clause",
    "mpl-1.1": "MPL-1.1",
    "mpl-2": "MPL-2.0",
    "cc0": "CC0-1.0",
    "mit license": "MIT",
    "apache software license": "Apache-2.0",
    "bsd license": "BSD-3-Clause",
    "python software foundation license": "PSF-2.0",
    "isc license (iscl)": "ISC",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
}
_OPERATORS = {"or": "OR", "and": "AND", "with": "WITH"}
_TOKEN = re.compile(r"\(|\)|[^\s(),]+")


@dataclass(frozen=True, slots=True)
class License:
    """An SPDX license expression and the ``LicenseRef-`` ids it uses, with their text."""

    expression: str
    refs: tuple[tuple[str, str], ...] = ()


@cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


def license_ref(text: str) -> str:
    """The ``LicenseRef-`` id standing for a license SPDX has no id for."""
    cleaned = re.sub(r"[^A-Za-z0-9.-]+", "-", text.strip().replace("+", "-plus"))
    return "LicenseRef-" + (cleaned.strip("-") or "unknown")


def _map_key(word: str) -> str:
    plus = word.endswith("+")
    base = word[:-1] if plus else word
    gnu = _GNU.get(base) or _GNU.get(base.upper())
    if gnu is not None:
        return f"{gnu}-or-later" if plus else f"{gnu}-only"
    alias = _ALIASES.get(word.lower())
    return alias or word


def _is_exception(key: str) -> bool:
    symbol = _licensing().known_symbols.get(key)
    return bool(symbol is not None and getattr(symbol, "is_exception", False))


def _debian_form(text: str) -> tuple[str, dict[str, str]]:
    """Debian's lower-case operators upper-cased and short names mapped.

    ``X with Y`` where ``Y`` (one or more words) is no SPDX exception becomes one
    ``LicenseRef-`` (SPDX 2.3 has no custom exceptions); the refs made so are returned
    with their text.
    """
    out: list[str] = []
    raw: list[str] = []
    refs: dict[str, str] = {}
    tokens = _TOKEN.findall(text)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        operator = _OPERATORS.get(token.lower())
        if operator == "WITH" and raw and out[-1] not in (*_OPERATORS.values(), "(", ")"):
            j = i + 1
            while j < len(tokens) and tokens[j] not in "()" and tokens[j].lower() not in _OPERATORS:
                j += 1
            exception = " ".join(tokens[i + 1 : j])
            if exception and not (j == i + 2 and _is_exception(exception)):
                whole = f"{raw[-1]} with {exception}"
                ref = license_ref(whole)
                refs[ref] = whole
                out[-1] = raw[-1] = ref
                i = j
                continue
        if operator is not None:
            out.append(operator)
        elif token in "()":
            out.append(token)
        else:
            out.append(_map_key(token))
        raw.append(token)
        i += 1
    return " ".join(out).replace("( ", "(").replace(" )", ")"), refs


def _one(text: str) -> License:
    text = " ".join(text.split())
    whole = _ALIASES.get(text.lower())
    candidate, refs = (whole, {}) if whole else _debian_form(text)
    licensing = _licensing()
    try:
        parsed = licensing.parse(candidate, validate=False, simple=False)
    except ExpressionError:
        parsed = None
    if parsed is None:
        ref = license_ref(text)
        return License(ref, ((ref, text),))
    unknown = [k for k in licensing.unknown_license_keys(parsed) if k not in refs]
    rendered = candidate
    for key in sorted(set(unknown), key=len, reverse=True):
        if key.startswith("LicenseRef-"):
            refs.setdefault(key, key.removeprefix("LicenseRef-"))
            continue
        ref = license_ref(key)
        refs[ref] = key
        rendered = re.sub(rf"(?<![\w.+-]){re.escape(key)}(?![\w.+-])", ref, rendered)
    try:
        parsed = licensing.parse(rendered, validate=False, simple=False)
    except ExpressionError:
        ref = license_ref(text)
        return License(ref, ((ref, text),))
    return License(parsed.render(), tuple(sorted(refs.items())))


def normalize(declared: Iterable[str]) -> License | None:
    """One SPDX expression for a package's declared licenses (ANDed), or None if none."""
    parts = [_one(text) for text in dict.fromkeys(t for t in declared if t.strip())]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    expressions = [p.expression for p in parts]
    joined = " AND ".join(e if " " not in e else f"({e})" for e in expressions)
    refs = sorted({ref for p in parts for ref in p.refs})
    return License(joined, tuple(refs))
