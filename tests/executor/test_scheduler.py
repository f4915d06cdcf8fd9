"""The graph runner: needs, the limit, exclusive resources, failures and interruption."""

from __future__ import annotations

import _thread
import logging
import threading
import time

import pytest

from kaniko import cancel
from kaniko.errors import BuildError, RunError
from kaniko.executor.scheduler import STAGE, Job, StagePrefix, default_jobs, first_wave, run_jobs


class Recorder:
    """Work that records when each job ran, holding it for ``hold`` seconds."""

    def __init__(self, hold: float = 0.2) -> None:
        self.hold = hold
        self.lock = threading.Lock()
        self.spans: dict[str, tuple[float, float]] = {}
        self.threads: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.live = 0
        self.most = 0

    def __call__(self, key: str) -> None:
        with self.lock:
            self.live += 1
            self.most = max(self.most, self.live)
        start = time.monotonic()
        time.sleep(self.hold)
        with self.lock:
            self.live -= 1
            self.spans[key] = (start, time.monotonic())
            self.threads[key] = threading.current_thread().name
            self.labels[key] = STAGE.get()

    def overlap(self, a: str, b: str) -> bool:
        (a0, a1), (b0, b1) = self.spans[a], self.spans[b]
        return a0 < b1 and b0 < a1


def test_independent_jobs_overlap_and_needs_wait() -> None:
    work = Recorder()
    jobs = [Job("a", "0 (a)"), Job("b", "1 (b)"), Job("c", "2", needs=("a", "b"))]
    run_jobs(jobs, work, limit=4)
    assert work.overlap("a", "b")
    assert work.spans["c"][0] >= max(work.spans["a"][1], work.spans["b"][1])
    assert work.labels == {"a": "0 (a)", "b": "1 (b)", "c": "2"}  # the log prefix


def test_limit_one_runs_in_order_in_the_calling_thread() -> None:
    work = Recorder(hold=0.01)
    order: list[str] = []
    jobs = [Job(k, k) for k in "dcba"]
    run_jobs(jobs, lambda k: (order.append(k), work(k)), limit=1)
    assert order == list("dcba")
    assert set(work.threads.values()) == {threading.current_thread().name}
    assert set(work.labels.values()) == {""}  # no prefix: nothing interleaves


def test_at_most_limit_jobs_run_at_once() -> None:
    work = Recorder(hold=0.1)
    run_jobs([Job(str(n), str(n)) for n in range(6)], work, limit=2)
    assert work.most == 2
    assert len(work.spans) == 6


def test_jobs_holding_one_resource_never_overlap() -> None:
    work = Recorder()
    jobs = [Job("run1", "0", exclusive="/"), Job("copy", "1"), Job("run2", "2", exclusive="/")]
    run_jobs(jobs, work, limit=3)
    assert not work.overlap("run1", "run2")
    assert work.overlap("run1", "copy")
    assert work.spans["run1"][0] < work.spans["run2"][0]  # the earlier one first


def test_first_wave() -> None:
    jobs = [
        Job("a", "a", exclusive="/"),
        Job("b", "b", needs=("a",)),
        Job("c", "c", exclusive="/"),
        Job("d", "d"),
        Job("e", "e"),
    ]
    assert first_wave(jobs, 1) == ["a"]
    assert first_wave(jobs, 2) == ["a", "d"]
    assert first_wave(jobs, 8) == ["a", "d", "e"]


def test_default_jobs_is_the_cores_at_least_two() -> None:
    import os

    assert default_jobs() == max(2, len(os.sched_getaffinity(0)))


def test_a_failure_cancels_the_siblings_and_is_the_one_raised() -> None:
    cancelled_seen = threading.Event()
    started_slow = threading.Event()

    def work(key: str) -> None:
        if key == "slow":
            started_slow.set()
            scope = cancel.current()
            assert scope is not None
            if scope.wait(10):
                cancelled_seen.set()
                scope.check()  # raises the cancellation: never the error reported
            return
        started_slow.wait(5)
        raise RunError("RUN (Dockerfile:4) exited 7: false", 7)

    jobs = [Job("slow", "0"), Job("fails", "1"), Job("after", "2", needs=("slow",))]
    started = time.monotonic()
    with pytest.raises(RunError) as info:
        run_jobs(jobs, work, limit=2)
    assert info.value.exit_code == 7
    assert cancelled_seen.is_set()
    assert time.monotonic() - started < 5


def test_no_job_starts_after_a_failure() -> None:
    ran: list[str] = []

    def work(key: str) -> None:
        ran.append(key)
        if key == "a":
            raise BuildError("a failed")

    jobs = [Job("a", "a"), Job("b", "b", needs=("a",)), Job("c", "c", needs=("b",))]
    with pytest.raises(BuildError, match="a failed"):
        run_jobs(jobs, work, limit=2)
    assert ran == ["a"]


def test_an_interrupt_while_waiting_stops_the_jobs_before_it_propagates() -> None:
    """SIGINT raises KeyboardInterrupt in the waiting (main) thread: the jobs are
    cancelled and joined, then it propagates unchanged."""
    finished = []

    def work(key: str) -> None:
        scope = cancel.current()
        assert scope is not None
        if key == "a":
            time.sleep(0.2)
            _thread.interrupt_main()
        cancelled = scope.wait(10)
        finished.append((key, cancelled))

    with pytest.raises(KeyboardInterrupt):
        run_jobs([Job("a", "a"), Job("b", "b")], work, limit=2)
    assert sorted(finished) == [("a", True), ("b", True)]  # both ran to their end


def test_stage_prefix(caplog: pytest.LogCaptureFixture) -> None:
    prefix = StagePrefix()
    record = logging.LogRecord("kaniko.x", logging.INFO, __file__, 1, "Unpacking %s", ("x",), None)
    token = STAGE.set("1 (b)")
    try:
        assert prefix.filter(record)
        assert record.getMessage() == "[1 (b)] Unpacking x"
        run_line = logging.LogRecord("k", logging.INFO, __file__, 1, "[1 (b):7] hi", None, None)
        prefix.filter(run_line)
        assert run_line.getMessage() == "[1 (b):7] hi"  # RUN output carries it already
    finally:
        STAGE.reset(token)
    plain = logging.LogRecord("k", logging.INFO, __file__, 1, "Built", None, None)
    prefix.filter(plain)
    assert plain.getMessage() == "Built"
