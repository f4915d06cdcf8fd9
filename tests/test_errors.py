"""The exception tree drawn in kaniko.errors is the tree of KanikoError subclasses."""

from __future__ import annotations

import importlib
import pkgutil
import re

import kaniko
from kaniko import errors
from kaniko.errors import KanikoError

_LINE = re.compile(r"^    (?P<indent>(?:│   |    |├── |└── )*)(?P<name>[A-Z]\w+)")


def drawn_tree() -> dict[str, str | None]:
    """Class name -> parent name, from the drawing in the module docstring."""
    doc = errors.__doc__ or ""
    drawing = doc.split("::\n", 1)[1].strip("\n").split("\n\n", 1)[0]
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    for line in drawing.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        depth = len(match["indent"]) // 4
        del stack[depth:]
        parents[match["name"]] = stack[-1] if stack else None
        stack.append(match["name"])
    return parents


def code_tree() -> dict[str, str | None]:
    """Class name -> parent name, for KanikoError and every subclass kaniko defines."""
    for info in pkgutil.walk_packages(kaniko.__path__, "kaniko."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    tree: dict[str, str | None] = {"KanikoError": None}
    todo = [KanikoError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("kaniko."):
                tree[sub.__name__] = cls.__name__
                todo.append(sub)
    return tree


def test_the_drawing_is_the_class_tree() -> None:
    assert drawn_tree() == code_tree()


def test_the_drawing_parses() -> None:
    tree = drawn_tree()
    assert tree["KanikoError"] is None
    assert tree["RunError"] == "BuildError"
    assert tree["ExpansionError"] == "KanikoError"
