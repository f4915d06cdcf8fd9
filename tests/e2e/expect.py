"""Checking a flattened image against what a case states (``expect`` and ``override``).

An expected path is a dict of the fields to check: ``type``, ``mode`` (an octal string
such as ``"4755"``), ``uid``, ``gid``, ``linkname``, ``content`` (the file's text, for
files up to the flattener's inline limit) and ``hardlinks`` (the other paths sharing its
inode). ``None`` instead of a dict: the path must not exist. Config values are compared
with :func:`tests.lab.flatten.compare_configs`' notion of equality (absent == empty).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tests.lab.flatten import COMPARED, Entry, Tree, compare_configs

_FIELDS = {"type", "mode", "uid", "gid", "linkname", "content", "hardlinks", "size"}


def check_entry(path: str, entry: Entry | None, spec: Mapping[str, Any] | None) -> list[str]:
    """Differences between ``entry`` (None: absent) and ``spec`` (None: must be absent)."""
    if spec is None:
        return [] if entry is None else [f"{path}: exists ({entry.type}), expected absent"]
    if entry is None:
        return [f"{path}: missing, expected {dict(spec)}"]
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ValueError(f"{path}: unknown expected fields {sorted(unknown)}")
    found = []
    for name, want in spec.items():
        if name == "mode":
            have: Any = entry.mode
            want = int(want, 8)
            if have != want:
                found.append(f"{path}: mode {oct(have)} != expected {oct(want)}")
            continue
        if name == "content":
            if entry.data is None:
                found.append(f"{path}: {entry.size} bytes, too large to compare as text")
            elif entry.data != want.encode():
                found.append(f"{path}: content {entry.data!r} != expected {want.encode()!r}")
            continue
        if name == "hardlinks":
            have = sorted(p for p in entry.hardlinks if p != path)
            if have != sorted(want):
                found.append(f"{path}: hardlinked with {have} != expected {sorted(want)}")
            continue
        have = getattr(entry, name)
        if have != want:
            found.append(f"{path}: {name} {have!r} != expected {want!r}")
    return found


def check_tree(tree: Tree, expected: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
    found: list[str] = []
    for path, spec in expected.items():
        found.extend(check_entry(path, tree.get(path), spec))
    return found


def changes(tree: Tree, base: Tree) -> set[str]:
    """Paths added, changed (in any compared field) or removed relative to ``base``."""
    changed = {p for p in tree if p not in base}
    changed |= {p for p in base if p not in tree}
    for path in set(tree) & set(base):
        a, b = tree[path], base[path]
        if any(getattr(a, f) != getattr(b, f) for f in COMPARED) or a.hardlinks != b.hardlinks:
            changed.add(path)
    return changed


def check_exact(tree: Tree, base: Tree, listed: Iterable[str]) -> list[str]:
    """Changes relative to ``base`` that the case did not list."""
    listed = set(listed)
    return [f"{p}: changed but not expected" for p in sorted(changes(tree, base) - listed)]


def check_config(config: Mapping[str, object], expected: Mapping[str, object]) -> list[str]:
    return compare_configs(config, expected, fields=list(expected), labels=("ours", "expected"))
