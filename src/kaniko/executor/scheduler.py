"""Running a build graph: jobs whose needs are done run at once, up to ``--jobs``.

The plan is a graph (:meth:`~kaniko.plan.BuildPlan.edges`: a stage needs its ``FROM``
stage and every stage it copies or mounts from). :func:`run_jobs` runs one :class:`Job`
per node: a job starts when every job it needs has finished, at most ``limit`` run at
once, and among the ready ones the earliest in the given order goes first. With
``limit`` 1 the jobs run one after another in the calling thread, in the given order: a
sequential build, exactly as before this module.

Otherwise each job runs in a thread of its own, in a copy of the caller's context (the
build's materials collector and cancel scope are context variables) with its label as
the current :data:`STAGE`, which :class:`StagePrefix` puts before every log line the job
writes. A job may hold an *exclusive* resource for its whole run: jobs naming the same
one never overlap (an in-place build has one ``/``, and only one stage can RUN in it).

When a job fails, the build's :class:`~kaniko.cancel.CancelScope` is cancelled: its
siblings' running RUNs are killed and their pulls stop, no job starts any more, the
running ones are waited for (their roots are then the workspace's to remove), and the
first failure is raised, unchanged (its exit code is the build's). An exception in the
calling thread while it waits (SIGINT's ``KeyboardInterrupt``, SIGTERM's) does the same
and propagates.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from kaniko import cancel

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

STAGE: contextvars.ContextVar[str] = contextvars.ContextVar("kaniko_stage", default="")
"""The label of the job (stage) the current thread works for, while jobs run at once."""

POLL = 0.5  # seconds between checks of the waiting thread (signals interrupt it anyway)


@dataclass(frozen=True)
class Job(Generic[K]):
    """One node of the graph: ``key`` is passed to the work function; ``needs`` are the
    keys of the jobs that must finish first; ``exclusive`` names a resource the job holds
    while it runs (None: none)."""

    key: K
    label: str
    needs: tuple[K, ...] = ()
    exclusive: str | None = None


def default_jobs() -> int:
    """``--jobs`` unset: the cores this process may run on, at least 2."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(2, cores)


def first_wave(jobs: Sequence[Job[K]], limit: int) -> list[K]:
    """The jobs :func:`run_jobs` starts at once (the others start later)."""
    started: list[K] = []
    held: set[str] = set()
    for job in jobs:
        if len(started) >= max(1, limit):
            break
        if job.needs or (job.exclusive is not None and job.exclusive in held):
            continue
        started.append(job.key)
        if job.exclusive is not None:
            held.add(job.exclusive)
    return started


def run_jobs(
    jobs: Sequence[Job[K]],
    work: Callable[[K], None],
    *,
    limit: int,
    scope: cancel.CancelScope | None = None,
) -> None:
    """Run ``work(job.key)`` for every job (see the module docs); raises the first failure."""
    scope = scope or cancel.CancelScope()
    with cancel.within(scope):
        if limit <= 1 or len(jobs) <= 1:
            for job in jobs:
                scope.check()
                work(job.key)
            return
        _Run(jobs, work, limit, scope).run()


class _Run(Generic[K]):
    """One concurrent run of a graph."""

    def __init__(
        self,
        jobs: Sequence[Job[K]],
        work: Callable[[K], None],
        limit: int,
        scope: cancel.CancelScope,
    ) -> None:
        self.pending = list(jobs)
        self.work = work
        self.limit = limit
        self.scope = scope
        self.known = {job.key for job in jobs}
        self.done: set[K] = set()
        self.held: set[str] = set()
        self.running: dict[K, threading.Thread] = {}
        self.failure: BaseException | None = None
        self.cond = threading.Condition()

    def run(self) -> None:
        try:
            with self.cond:
                while True:
                    if self.failure is None:
                        self._start_ready()
                    if not self.running:
                        break
                    self.cond.wait(POLL)
        except BaseException:  # interrupted while waiting: stop the jobs, then propagate
            self.scope.cancel()
            self._join()
            raise
        if self.failure is not None:
            raise self.failure
        if self.pending:  # needs that no job satisfies: a broken graph
            left = ", ".join(job.label for job in self.pending)
            raise RuntimeError(f"jobs never became ready: {left}")

    def _ready(self, job: Job[K]) -> bool:
        needs_done = all(need in self.done or need not in self.known for need in job.needs)
        return needs_done and (job.exclusive is None or job.exclusive not in self.held)

    def _start_ready(self) -> None:
        for job in list(self.pending):
            if len(self.running) >= self.limit:
                return
            if not self._ready(job):
                continue
            self.pending.remove(job)
            if job.exclusive is not None:
                self.held.add(job.exclusive)
            context = contextvars.copy_context()
            thread = threading.Thread(
                target=context.run,
                args=(self._job, job),
                name=f"kaniko-stage-{job.label}",
                daemon=True,
            )
            self.running[job.key] = thread
            thread.start()

    def _job(self, job: Job[K]) -> None:
        STAGE.set(job.label)
        failed: BaseException | None = None
        try:
            self.scope.check()
            self.work(job.key)
        except BaseException as e:
            failed = e
        with self.cond:
            del self.running[job.key]
            if job.exclusive is not None:
                self.held.discard(job.exclusive)
            if failed is None:
                self.done.add(job.key)
            elif self.failure is None:
                self.failure = failed
            self.cond.notify_all()
        if failed is not None:
            self.scope.cancel()  # outside the lock: the hooks kill RUNs

    def _join(self) -> None:
        with self.cond:
            threads = list(self.running.values())
        for thread in threads:
            thread.join()


class StagePrefix(logging.Filter):
    """Puts ``[stage]`` before every log line written for a job running concurrently
    (lines that already start with the stage's label, as RUN output does, are kept);
    the CLI adds it to its handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        label = STAGE.get()
        if label:
            message = record.getMessage()
            if not message.startswith(f"[{label}"):
                record.msg, record.args = f"[{label}] {message}", None
        return True
