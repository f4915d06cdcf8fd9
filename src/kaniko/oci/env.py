"""An image config's ``Env``: ``KEY=VALUE`` entries, and Docker's rules for changing them.

One implementation of those rules, for every place that changes an environment: the
planner's stage scope (ENV instructions, the default ``PATH`` of a stage) and the config
model's :meth:`~kaniko.oci.runconfig.RunConfig.with_env`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The PATH of a Linux image whose config sets none: what Docker and BuildKit put in the
config of a stage without one, and what a RUN gets when its environment lacks PATH."""


class ConfigEnv(Mapping[str, str]):
    """An image config's ``Env`` being changed (``KEY=VALUE`` entries).

    The entries keep the config's order and text; :meth:`set` replaces a name's first
    entry in place and drops its later duplicates, or appends (BuildKit's ``addEnv``),
    in O(1), so a Dockerfile of thousands of ENV lines stays linear. As a mapping it
    gives each name's value: a later duplicate wins, an entry without ``=`` maps to "".
    """

    __slots__ = ("_entries", "_first", "_later", "_values")

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self._entries: list[str | None] = []  # None: a dropped duplicate
        self._first: dict[str, int] = {}  # each name's first entry
        self._later: dict[str, list[int]] = {}  # the entries of a name listed again
        self._values: dict[str, str] = {}
        for entry in entries:
            name, _, value = entry.partition("=")
            if name in self._first:
                self._later.setdefault(name, []).append(len(self._entries))
            else:
                self._first[name] = len(self._entries)
            self._entries.append(entry)
            self._values[name] = value

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def set(self, name: str, value: str) -> None:
        """``name=value`` in place of ``name``'s entry, else at the end."""
        entry = f"{name}={value}"
        at = self._first.get(name)
        if at is None:
            self._first[name] = len(self._entries)
            self._entries.append(entry)
        else:
            self._entries[at] = entry
            for later in self._later.pop(name, ()):
                self._entries[later] = None
        self._values[name] = value

    def add_default_path(self, os_name: str) -> None:
        """Give an environment without ``PATH`` the default one, at its end, unless the
        platform's OS is Windows, which sets its own (BuildKit's rule since
        moby/buildkit#5445; no default for Windows at all before)."""
        if "PATH" not in self._values and os_name != "windows":
            self.set("PATH", DEFAULT_PATH)

    def entries(self) -> tuple[str, ...]:
        """The config's ``Env`` as it stands."""
        return tuple(entry for entry in self._entries if entry is not None)

    def copy(self) -> ConfigEnv:
        return ConfigEnv(self.entries())
