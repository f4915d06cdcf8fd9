"""Base images resolved together: at once, each once, failures kept for their asker, and
the materials recorded in the order a sequential build records them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from kaniko.attest.materials import Materials, collecting
from kaniko.errors import RegistryError
from kaniko.executor import bases as bases_module
from kaniko.executor.bases import RemoteBases
from kaniko.oci.config import ImageConfig
from kaniko.oci.digest import Digest
from kaniko.oci.platform import Platform
from kaniko.options import RegistryOptions

HOST = Platform.host()
DELAY = 0.4  # each resolution's round trips, injected


@dataclass
class FakeImage:
    reference: str
    resolved: Digest

    def config(self) -> ImageConfig:
        return ImageConfig()


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every fetch, by reference; each takes DELAY; ``bad/*`` references fail."""
    calls: list[str] = []
    lock = threading.Lock()

    def fetch(transport, ref, platform, **kw):  # type: ignore[no-untyped-def]
        with lock:
            calls.append(str(ref))
        time.sleep(DELAY)
        if "bad/" in str(ref):
            raise RegistryError(f"{ref}: manifest unknown")
        return FakeImage(str(ref), Digest.parse("sha256:" + f"{len(calls):064x}"))

    monkeypatch.setattr(bases_module, "fetch", fetch)
    return calls


def test_resolved_at_once_and_each_once(fetches: list[str]) -> None:
    bases = RemoteBases(None, RegistryOptions())  # type: ignore[arg-type]
    wanted = [(f"r.example/img{n}:1", HOST) for n in range(4)]
    started = time.monotonic()
    bases.resolve_all([*wanted, wanted[0]])
    assert time.monotonic() - started < 2 * DELAY  # not 4 x DELAY
    assert len(fetches) == 4
    for reference, platform in wanted:
        assert bases.known(reference, platform) is not None
        bases.image(reference, platform)  # cached: no fetch
    assert len(fetches) == 4


def test_a_failure_is_raised_to_the_asker_once(fetches: list[str]) -> None:
    bases = RemoteBases(None, RegistryOptions())  # type: ignore[arg-type]
    bases.resolve_all([("r.example/bad/x:1", HOST)])
    assert bases.known("r.example/bad/x:1", HOST) is None
    with pytest.raises(RegistryError, match="manifest unknown"):
        bases.image("r.example/bad/x:1", HOST)
    assert len(fetches) == 1  # the kept failure, not a second fetch


def test_materials_in_the_order_asked(fetches: list[str]) -> None:
    bases = RemoteBases(None, RegistryOptions())  # type: ignore[arg-type]
    wanted = [(f"r.example/img{n}:1", HOST) for n in range(5)]
    with collecting(Materials()) as materials:
        bases.resolve_all(wanted)  # no report: the planner reports in its order
        assert materials.images == []
        bases.resolve_all(list(reversed(wanted)), report=True)
    assert [m.reference for m in materials.images] == [r for r, _ in reversed(wanted)]


def test_stages_asking_at_once_share_one_fetch(fetches: list[str]) -> None:
    bases = RemoteBases(None, RegistryOptions())  # type: ignore[arg-type]
    threads = [
        threading.Thread(target=bases.image, args=("r.example/shared:1", HOST)) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fetches == ["r.example/shared:1"]
