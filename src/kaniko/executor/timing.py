"""Where a build's time goes: each step's phases and the run's totals.

A build records into one :class:`Profile` (:func:`profiling`); code anywhere below the
executor marks a phase with ``with phase("extract"): ...``, which costs nothing when no
profile is active. Phases are attributed to the step running in the same thread
(:func:`step`), and always to the run's totals:

- ``extract``: a base made ready (pulled and unpacked, or taken from the kept base);
- ``run``: a RUN's process; ``copy``: COPY/ADD/WORKDIR writing files;
- ``snapshot``: finding what a step changed; ``compress``: writing its layer (tar,
  compression, digests);
- ``push``: writing the image (pushes, tarball, layout); ``plan``: reading the Dockerfile,
  the base images' configs and planning.

The profile and the current step live in context variables: a thread of a pool starts
with neither, so a worker that should count towards a step is given the profile
(:meth:`Profile.add`) or runs in a copied context (:func:`contextvars.copy_context`).

``-v debug`` logs one line per step and one for the totals (:meth:`Profile.log`);
``--profile FILE`` writes the whole profile as JSON (:meth:`Profile.document`), and
``BENCHMARK_FILE`` (the Go kaniko's variable) gets its flat map of category to
nanoseconds (:meth:`Profile.benchmark`).

The peak RSS is the process's own high-water mark (``VmHWM``): ``ru_maxrss`` would carry
over the peak of whatever process started kaniko, as Linux keeps it across ``exec``.
"""

from __future__ import annotations

import json
import logging
import resource
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PHASES = ("plan", "extract", "run", "copy", "snapshot", "compress", "push")


@dataclass
class StepTiming:
    """One step: where it is, its wall time and its phases' seconds."""

    stage: str
    line: int
    instruction: str
    wall: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb(status: Path = Path("/proc/self/status")) -> float:
    """This process's peak resident memory in MB: ``VmHWM`` of ``status``, else (no
    procfs) ``ru_maxrss``, which may be the peak of the process that exec'd kaniko."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Profile:
    """The timings of one build (see the module docs)."""

    def __init__(self) -> None:
        self.steps: list[StepTiming] = []
        self.phases: dict[str, float] = {}
        self.counters: dict[str, int] = {}
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self._cpu = _cpu()
        self.wall = 0.0
        self.cpu = 0.0

    def add(self, name: str, seconds: float, into: StepTiming | None = None) -> None:
        """Count ``seconds`` of phase ``name`` in the totals and in step ``into``."""
        with self._lock:
            self.phases[name] = self.phases.get(name, 0.0) + seconds
            if into is not None:
                into.phases[name] = into.phases.get(name, 0.0) + seconds

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name`` (bytes extracted, layers kept, …)."""
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def stop(self) -> None:
        """The build is over: take its wall and CPU time."""
        self.wall = time.perf_counter() - self._started
        self.cpu = _cpu() - self._cpu

    def document(self) -> dict[str, Any]:
        """The profile as JSON-ready data (``--profile``)."""
        return {
            "wall": round(self.wall, 4),
            "cpu": round(self.cpu, 4),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "phases": {k: round(v, 4) for k, v in self.phases.items()},
            "counters": dict(self.counters),
            "steps": [
                {
                    "stage": s.stage,
                    "line": s.line,
                    "instruction": s.instruction,
                    "wall": round(s.wall, 4),
                    "phases": {k: round(v, 4) for k, v in s.phases.items()},
                }
                for s in self.steps
            ],
        }

    def benchmark(self) -> dict[str, int]:
        """The Go kaniko's ``BENCHMARK_FILE`` document: category → nanoseconds."""
        out = {name: int(seconds * 1e9) for name, seconds in self.phases.items()}
        out["Total Build Time"] = int(self.wall * 1e9)
        return out

    def log(self) -> None:
        """Log each step's phases and the totals at debug level."""
        if not log.isEnabledFor(logging.DEBUG):
            return
        for s in self.steps:
            log.debug(
                "timing: [%s:%d] %s: %.3fs (%s)",
                s.stage,
                s.line,
                s.instruction[:60],
                s.wall,
                _phases(s.phases) or "no filesystem work",
            )
        rss = peak_rss_mb()
        log.debug(
            "timing: total %.3fs wall, %.3fs CPU, peak RSS %.0f MB (%s)",
            self.wall,
            self.cpu,
            rss,
            _phases(self.phases),
        )

    def write(self, profile_file: str, benchmark_file: str) -> None:
        """Write ``--profile`` and ``BENCHMARK_FILE`` where asked (empty: not asked)."""
        for path, data in (
            (profile_file, self.document() if profile_file else None),
            (benchmark_file, self.benchmark() if benchmark_file else None),
        ):
            if path and data is not None:
                try:
                    Path(path).write_text(json.dumps(data, indent=2) + "\n")
                except OSError as e:
                    log.warning("cannot write the build profile to %s: %s", path, e)


def _phases(phases: dict[str, float]) -> str:
    order = [p for p in PHASES if p in phases] + sorted(set(phases) - set(PHASES))
    return ", ".join(f"{name} {phases[name]:.3f}s" for name in order)


_profile: ContextVar[Profile | None] = ContextVar("kaniko_profile", default=None)
_step: ContextVar[StepTiming | None] = ContextVar("kaniko_step", default=None)


def current() -> Profile | None:
    """The profile being recorded in this context, if any."""
    return _profile.get()


@contextmanager
def profiling(profile: Profile) -> Iterator[Profile]:
    """Record into ``profile`` until the end of the block (then it is stopped)."""
    token = _profile.set(profile)
    try:
        yield profile
    finally:
        profile.stop()
        _profile.reset(token)


@contextmanager
def step(stage: str, line: int, instruction: str) -> Iterator[None]:
    """Attribute the phases of this thread to one step until the end of the block."""
    profile = _profile.get()
    if profile is None:
        yield
        return
    timing = StepTiming(stage, line, instruction)
    token = _step.set(timing)
    started = time.perf_counter()
    try:
        yield
    finally:
        timing.wall = time.perf_counter() - started
        _step.reset(token)
        with profile._lock:
            profile.steps.append(timing)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as phase ``name`` of the current step (no profile: nothing)."""
    profile = _profile.get()
    if profile is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        profile.add(name, time.perf_counter() - started, _step.get())


@contextmanager
def recording(profile_file: str = "", benchmark_file: str = "") -> Iterator[Profile]:
    """Record a build's profile; at the end log it (``-v debug``) and write the files
    asked for, whether the build succeeded or not."""
    profile = Profile()
    try:
        with profiling(profile):
            yield profile
    finally:
        profile.log()
        profile.write(profile_file, benchmark_file)


def count(name: str, n: int = 1) -> None:
    """Add to a counter of the current profile, if any."""
    profile = _profile.get()
    if profile is not None:
        profile.count(name, n)


def env_benchmark_file(environ: Mapping[str, str]) -> str:
    """Where ``BENCHMARK_FILE`` asks for the Go-style timings ("" or "false": nowhere)."""
    value = environ.get("BENCHMARK_FILE", "")
    return "" if value.lower() == "false" else value
