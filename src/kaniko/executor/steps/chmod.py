"""``COPY/ADD --chmod``: octal or symbolic modes, as BuildKit applies them.

BuildKit accepts an octal value up to ``07777`` (it replaces every permission bit, the
set-id and sticky bits included) or, since Dockerfile 1.14, a symbolic ``chmod(1)`` mode
evaluated by BSD ``setmode`` rules (the ``tonistiigi/dchapes-mode`` package):

* clauses are separated by ``,``; each is ``[ugoa]*`` followed by actions ``[+-=]perms``
  where perms are letters of ``rwxXst`` or one class letter ``u``/``g``/``o`` to copy;
* without a class the bits are limited by the umask (022, buildkitd's), except that a
  bare ``=`` clears every bit first;
* ``X`` (only with ``+``) adds execute where the original mode has any execute bit or the
  entry is a directory; ``s``/``t`` are ignored in a clause that names only ``o``.

The mode applies to every file and directory a COPY writes (never to symlinks, nor to the
parent directories it creates).
"""

from __future__ import annotations

from dataclasses import dataclass

from kaniko.errors import BuildError

_UMASK = 0o022
_SUID, _SGID, _STICKY = 0o4000, 0o2000, 0o1000
_STANDARD = 0o6777  # set-id bits and rwx for everyone: BSD's STANDARD_BITS
_CLASS = {"u": _SUID | 0o700, "g": _SGID | 0o070, "o": 0o007, "a": _STANDARD}
_PERM = {"r": 0o444, "w": 0o222, "x": 0o111}
_SHIFT = {"u": 6, "g": 3, "o": 0}


@dataclass(frozen=True, slots=True)
class _Op:
    """One step: ``kind`` is ``+``, ``-``, ``X`` or ``copy``; ``src`` the class to copy."""

    kind: str
    bits: int
    src: str = ""
    clear: bool = False
    classes: str = ""  # for copies: the classes receiving the copied bits


@dataclass(frozen=True, slots=True)
class Chmod:
    """A parsed ``--chmod`` value; :meth:`apply` gives the new permission bits."""

    text: str
    octal: int | None
    ops: tuple[_Op, ...] = ()

    def apply(self, mode: int, *, is_dir: bool) -> int:
        """The permission bits (``0o7777`` range) for an entry whose mode is ``mode``."""
        if self.octal is not None:
            return self.octal
        original = mode & 0o7777
        new = original
        for op in self.ops:
            if op.kind == "+":
                new |= op.bits
            elif op.kind == "-":
                new &= ~op.bits
            elif op.kind == "X":
                if original & 0o111 or is_dir:
                    new |= op.bits
            else:
                value = (new >> _SHIFT[op.src]) & 0o7
                for cls in op.classes:
                    shift = _SHIFT[cls]
                    if op.clear:
                        new &= ~((0o7 if op.kind == "copy=" else value) << shift & op.bits)
                    if op.kind in ("copy+", "copy="):
                        new |= value << shift & op.bits
        return new & 0o7777


def parse_chmod(text: str) -> Chmod:
    """Parse a ``--chmod`` value; :class:`BuildError` if BuildKit would refuse it."""
    not_octal = BuildError(
        f"invalid chmod parameter: {text!r}. it should be octal string and between 0 and 07777"
    )
    if text[:1].isdigit():
        if not all(c in "01234567" for c in text) or int(text, 8) > 0o7777:
            raise not_octal
        return Chmod(text, int(text, 8))
    try:
        return Chmod(text, None, tuple(_Symbolic(text).parse()))
    except _Syntax:
        raise BuildError(f"invalid --chmod={text!r}: not an octal or symbolic mode") from None


class _Syntax(Exception):
    pass


class _Symbolic:
    """A parser of BSD symbolic modes producing :class:`_Op` steps."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.mask = ~_UMASK & 0o7777
        self.ops: list[_Op] = []

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> list[_Op]:
        if not self.text:
            raise _Syntax
        while True:
            who = 0
            while self._peek() and self._peek() in _CLASS:
                who |= _CLASS[self._peek()]
                self.pos += 1
            self._actions(who)
            if self.pos >= len(self.text):
                return self.ops
            if self._peek() != ",":
                raise _Syntax
            self.pos += 1
            if self.pos >= len(self.text):
                raise _Syntax

    def _actions(self, who: int) -> None:
        """One or more ``op perms`` groups sharing the clause's class list."""
        while True:
            op = self._peek()
            if not op or op not in "+-=":
                raise _Syntax
            self.pos += 1
            self._perms(op, who)
            if self._peek() in ("", ","):
                return

    def _perms(self, op: str, who: int) -> None:
        perm = perm_x = 0
        equal_done = False  # for "=": the clearing step was emitted already
        while True:
            ch = self._peek()
            if ch and ch in _PERM:
                perm |= _PERM[ch]
            elif ch == "s":
                if who == 0 or who & ~0o007:
                    perm |= _SUID | _SGID
            elif ch == "t":
                if who == 0 or who & ~0o007:
                    who |= _STICKY
                    perm |= _STICKY
            elif ch == "X":
                if op == "+":
                    perm_x = 0o111
            elif ch and ch in _SHIFT:
                if perm:
                    self._add(op, who, perm)
                    perm = 0
                equal_done = equal_done or op == "="
                if perm_x:
                    self._add("X", who, perm_x)
                    perm_x = 0
                self._copy(op, who, ch)
            else:
                if perm or (op == "=" and not equal_done):
                    self._add(op, who, perm)
                if perm_x:
                    self._add("X", who, perm_x)
                return
            self.pos += 1

    def _add(self, op: str, who: int, perm: int) -> None:
        if op == "=":
            self.ops.append(_Op("-", who if who else _STANDARD))
            op = "+"
        self.ops.append(_Op(op, (who if who else self.mask) & perm))

    def _copy(self, op: str, who: int, src: str) -> None:
        if who:
            pairs = (("u", 0o400), ("g", 0o040), ("o", 0o004))
            classes, bits = "".join(c for c, bit in pairs if who & bit), 0o7777
        else:
            classes, bits = "ugo", self.mask
        kind = {"+": "copy+", "-": "copy-", "=": "copy="}[op]
        self.ops.append(_Op(kind, bits, src, op in ("-", "="), classes))
