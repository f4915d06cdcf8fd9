from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.sandbox.detect import in_container


def _root(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "env", "expected"),
    [
        (
            {"proc/1/cgroup": "0::/init.scope\n", "proc/1/sched": "systemd (1, #threads: 1)\n"},
            {},
            False,
        ),
        ({"proc/1/cgroup": "0::/\n", "proc/1/sched": "init (1, #threads: 1)\n"}, {}, False),
        ({".dockerenv": ""}, {}, True),
        ({"run/.containerenv": ""}, {}, True),
        ({}, {"container": "podman"}, True),
        ({"proc/1/cgroup": "12:pids:/kubepods/burstable/pod1/abc\n"}, {}, True),
        ({"proc/1/cgroup": "0::/system.slice/docker-abc.scope\n"}, {}, True),
        ({"proc/1/cgroup": "0::/\n", "proc/1/sched": "executor (1, #threads: 4)\n"}, {}, True),
    ],
)
def test_in_container(tmp_path: Path, files: dict, env: dict, expected: bool) -> None:
    assert in_container(_root(tmp_path, files), env) is expected
