"""A build's cancel scope: hooks, late registration, checks, context isolation."""

from __future__ import annotations

import contextvars
import threading

import pytest

from kaniko import cancel
from kaniko.errors import BuildError


def test_hooks_run_once_on_cancel_and_forgotten_ones_never() -> None:
    scope = cancel.CancelScope()
    ran: list[str] = []
    scope.on_cancel(lambda: ran.append("a"))
    token = scope.on_cancel(lambda: ran.append("b"))
    scope.forget(token)
    scope.cancel()
    scope.cancel()
    assert ran == ["a"]
    assert scope.cancelled


def test_a_hook_registered_after_cancel_runs_at_once() -> None:
    scope = cancel.CancelScope()
    scope.cancel()
    ran: list[int] = []
    scope.on_cancel(lambda: ran.append(1))
    assert ran == [1]


def test_check_raises_only_in_a_cancelled_current_scope() -> None:
    cancel.check()  # no scope: nothing
    scope = cancel.CancelScope()
    with cancel.within(scope):
        cancel.check()
        scope.cancel()
        with pytest.raises(BuildError, match="cancelled"):
            cancel.check()
    cancel.check()  # the scope is no longer current
    assert cancel.current() is None


def test_the_hook_block_forgets_its_hook() -> None:
    scope = cancel.CancelScope()
    ran: list[int] = []
    with cancel.within(scope), cancel.hook(lambda: ran.append(1)):
        pass
    scope.cancel()
    assert ran == []


def test_scopes_are_per_context() -> None:
    """A thread started with a copy of the context sees the scope; another does not."""
    scope = cancel.CancelScope()
    seen: dict[str, object] = {}
    with cancel.within(scope):
        copied = contextvars.copy_context()
    t1 = threading.Thread(target=copied.run, args=(lambda: seen.update(a=cancel.current()),))
    t2 = threading.Thread(target=lambda: seen.update(b=cancel.current()))
    for t in (t1, t2):
        t.start()
        t.join()
    assert seen == {"a": scope, "b": None}
