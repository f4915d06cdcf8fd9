"""Keep secrets out of logs and error messages.

Library code that handles a credential (a registry password, a bearer token, a
``GIT_TOKEN``) calls :func:`register_secret` with it once; from then on
:func:`redact` replaces every occurrence of it by ``***``. The CLI installs
:class:`RedactingFilter` on its log handlers and redacts the error line it prints, so a
secret that reaches a log record or an exception message is never shown. This module
imports nothing from the rest of kaniko, so any layer may use it.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()  # longest first, so a secret containing another wins


def register_secret(value: str | None) -> None:
    """Mask ``value`` in everything redacted from now on (empty values are ignored)."""
    global _ordered
    if not value:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        _ordered = tuple(sorted(_secrets, key=lambda s: (-len(s), s)))


def clear_secrets() -> None:
    """Forget every registered secret (for tests and long-lived processes)."""
    global _ordered
    with _lock:
        _secrets.clear()
        _ordered = ()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """A log filter that masks registered secrets in a record's message and traceback.

    The message is rendered (``msg % args``) before masking, so a secret passed as an
    argument is caught too; the record then carries the masked text and no args.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not _ordered:
            return True
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def redact_url(url: str) -> str:
    """``url`` with the password of its userinfo (or a lone token user) and any ``sig=``
    query value (an Azure SAS signature) replaced by ``***``; other text unchanged."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority_end = len(rest)
    for stop in "/?#":
        index = rest.find(stop)
        if index != -1:
            authority_end = min(authority_end, index)
    authority, tail = rest[:authority_end], rest[authority_end:]
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        user, colon, _password = userinfo.partition(":")
        authority = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    tail = _SIG.sub(lambda m: m.group(1) + MASK, tail)
    return f"{scheme}://{authority}{tail}"


_SIG = re.compile(r"([?&]sig=)[^&#]*", re.IGNORECASE)
