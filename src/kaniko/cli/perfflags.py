"""The flags of issue 14 (snapshotter, kept extracted bases, build profile) → options.

``--snapshotter`` falls back to ``KANIKO_SNAPSHOTTER`` (so a whole test suite can be run
with one snapshotter forced), then ``auto``. ``--extracted-base-size`` is a size
(``10GiB``) or ``0`` (keep no extracted base). ``--profile`` names the JSON profile;
``BENCHMARK_FILE`` (the Go kaniko's variable; ``false`` or empty: none) the flat one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from kaniko.cli import values
from kaniko.errors import UsageError
from kaniko.executor.timing import env_benchmark_file
from kaniko.options import SNAPSHOTTERS, PerfOptions, SnapshotterKind


def perf_options(v: Mapping[str, Any], environ: Mapping[str, str]) -> PerfOptions:
    """The :class:`PerfOptions` of parsed flag values ``v``; raises :class:`UsageError`."""
    kind = v["snapshotter"] or environ.get("KANIKO_SNAPSHOTTER", "") or "auto"
    if kind not in SNAPSHOTTERS:
        raise UsageError(f"--snapshotter {kind!r}: want one of {', '.join(SNAPSHOTTERS)}")
    size_text = str(v["extracted_base_size"]).strip()
    try:
        size = 0 if size_text == "0" else values.parse_size(size_text)
    except ValueError as e:
        raise UsageError(f"--extracted-base-size {size_text!r}: {e}") from None
    return PerfOptions(
        snapshotter=cast(SnapshotterKind, kind),
        base_store_dir=v["extracted_base_dir"],
        base_store_size=size,
        profile_file=v["profile"],
        benchmark_file=env_benchmark_file(environ),
    )
