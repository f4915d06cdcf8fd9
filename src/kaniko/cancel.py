"""Stopping the rest of one build's work when one part of it fails.

When stages run concurrently (:mod:`kaniko.executor.scheduler`) and one fails, its
siblings must stop promptly: a running RUN is killed, a pull stops between reads, and no
new step starts. A :class:`CancelScope` is that signal for one build. The scheduler
makes one per build and runs each stage with it as the :func:`current` scope (a
:class:`contextvars.ContextVar`, so concurrent builds in one process stay apart); code
that can stop early registers a hook (:meth:`CancelScope.on_cancel`: the RUN sandbox
kills its process tree) or polls (:func:`check`, between layers and steps).

This is not the process-wide interruption of SIGINT/SIGTERM
(:func:`kaniko.sandbox.chroot.cancel_all`, :func:`kaniko.registry.network.cancel_all`):
a scope stops only the work of the build that owns it.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kaniko.errors import BuildError

CANCELLED = "cancelled: another part of the build failed"


class CancelScope:
    """The cancellation signal of one build (see the module docs); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # reentrant: a hook may register or forget
        self._event = threading.Event()
        self._hooks: dict[int, Callable[[], None]] = {}
        self._next = 0

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        """Cancel: every registered hook runs once, now (later ones run on registering)."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            hooks = list(self._hooks.values())
            self._hooks.clear()
        for hook in hooks:
            hook()

    def on_cancel(self, hook: Callable[[], None]) -> int:
        """Run ``hook`` when the scope is cancelled (at once if it already is); a token
        for :meth:`forget`. Hooks run under the scope's lock when registered late, so a
        hook and :meth:`forget` never race."""
        with self._lock:
            if self._event.is_set():
                hook()
                return -1
            self._next += 1
            self._hooks[self._next] = hook
            return self._next

    def forget(self, token: int) -> None:
        """Drop a hook (its work ended); after this it never runs."""
        with self._lock:
            self._hooks.pop(token, None)

    def check(self) -> None:
        """Raise :class:`BuildError` if the scope was cancelled."""
        if self._event.is_set():
            raise BuildError(CANCELLED)

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds for cancellation; whether it happened."""
        return self._event.wait(timeout)


_current: contextvars.ContextVar[CancelScope | None] = contextvars.ContextVar(
    "kaniko_cancel_scope", default=None
)


def current() -> CancelScope | None:
    """The scope of the build this code runs for, if it has one."""
    return _current.get()


def check() -> None:
    """Raise :class:`BuildError` if the current scope (if any) was cancelled."""
    scope = _current.get()
    if scope is not None:
        scope.check()


@contextmanager
def within(scope: CancelScope) -> Iterator[CancelScope]:
    """Make ``scope`` the current one in this context until the block ends."""
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


@contextmanager
def hook(action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` if the current scope is cancelled while the block runs."""
    scope = _current.get()
    if scope is None:
        yield
        return
    token = scope.on_cancel(action)
    try:
        yield
    finally:
        scope.forget(token)
