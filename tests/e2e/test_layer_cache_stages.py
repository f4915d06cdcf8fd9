"""The layer cache with stages built at once (``--jobs 4``), against the lab's registry.

Four stages, three of them independent and started together: two whose first RUN is
the same step (one key) and one that copies from the build context; the last stage
copies from them and from an image (``COPY --from=<image>``, whose layers the scheduler
pulls ahead while the first three are built). Built with ``--cache`` into an ``oci:``
layout and into a registry repository, several times: the cold build and every rebuild
give the digest of a ``--jobs 1`` build without cache, every rebuild is served whole by
the cache (no RUN, no extraction, each key read once), and the cache holds one sound
entry per key, nothing half-written.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from kaniko.executor import pulls
from kaniko.oci.digest import Digest
from tests.e2e.test_layer_cache import MARK, Builder, _flat, _tags
from tests.lab.images import layer_from_dir, make_image, push_raw
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e

STAGES = """\
FROM {base} AS left
RUN echo {mark} && echo shared > /shared
RUN echo {mark} && echo left > /left

FROM {base} AS right
RUN echo {mark} && echo shared > /shared
RUN echo {mark} && echo right > /right

FROM {base} AS context
COPY ctx.txt /ctx.txt
RUN echo {mark} && tr a-z A-Z < /ctx.txt > /ctx.out

FROM {base}
COPY --from=left /shared /left /
COPY --from=right /right /
COPY --from=context /ctx.out /
COPY --from={tools} /tool/data.txt /tool.txt
"""
KEYS = 9  # 10 cacheable steps; the two stages' first RUN is one step, one key
ROUNDS = 3


@pytest.fixture
def tools_image(registry_plain: Registry, tmp_path: Path) -> tuple[str, Digest]:
    """An image of its own layer (no stage is built on it): its reference and layer."""
    tree = tmp_path / "tools-tree"
    (tree / "tool").mkdir(parents=True)
    (tree / "tool" / "data.txt").write_text("tool data\n")
    blob = layer_from_dir(tree)
    image = make_image([blob])
    with httpx.Client(timeout=30) as client:
        push_raw(client, registry_plain.url, "cache-stages/tools", "1", image)
    [digest] = [d for d, data in image.blobs.items() if data == blob]
    return f"{registry_plain.host}/cache-stages/tools:1", Digest.parse(digest)


@pytest.fixture
def pulled_ahead(monkeypatch: pytest.MonkeyPatch) -> list[Digest]:
    """The layers the scheduler's pull-ahead was given (pulled, or found kept)."""
    found: list[Digest] = []
    real = pulls.PullAhead._pull

    def spy(self, layer, claimed):  # type: ignore[no-untyped-def]
        found.append(layer.digest)
        return real(self, layer, claimed)

    monkeypatch.setattr(pulls.PullAhead, "_pull", spy)
    return found


def _written(log: str) -> list[str]:
    return re.findall(r"Pushed cache entry \S+:([0-9a-f]{64})", log)


@pytest.mark.parametrize("kind", ["oci", "registry"])
def test_stages_built_at_once_share_the_cache_soundly(
    kind: str,
    tmp_path: Path,
    caplog,
    base_images,
    registry_plain: Registry,
    tools_image: tuple[str, Digest],
    pulled_ahead: list[Digest],
) -> None:
    tools, tools_layer = tools_image
    layers = tmp_path / "cache" / "layers"
    repo = f"oci:{layers}" if kind == "oci" else f"{registry_plain.host}/cache-stages/{kind}"
    b = Builder(tmp_path, caplog, f"{registry_plain.host}/cache-stages/app:{kind}")
    b.write("Dockerfile", STAGES.format(base=base_images["busybox"], mark=MARK, tools=tools))
    b.write("ctx.txt", "from the context\n")
    sequential = b.build(cache=False, jobs=1)
    pulled_ahead.clear()

    assert b.build(repo=repo, copy_layers=True, jobs=4) == sequential  # cold
    assert b.ran == 5  # both stages missed their shared RUN at once: each ran it
    written = _written(b.log)
    assert len(written) == len(set(written)) == KEYS  # each key stored once
    assert tools_layer in pulled_ahead  # COPY --from=<image> pulled ahead under --cache

    for _ in range(ROUNDS):
        assert b.build(repo=repo, copy_layers=True, jobs=4) == sequential
        assert (b.ran, b.extracted, b.hits) == (0, False, KEYS)  # each key read once
        assert _written(b.log) == []
    assert b.build(repo=repo, copy_layers=True, jobs=1) == sequential
    assert (b.ran, b.extracted, b.hits) == (0, False, KEYS)

    if kind == "oci":
        names = sorted(p.name for p in layers.parent.iterdir())
        assert names == sorted(f"layers:{key}" for key in written)  # no staging left
    else:
        assert _tags(registry_plain, f"cache-stages/{kind}") == sorted(written)
    flat = _flat(b.dest)
    assert flat["/shared"] == b"shared\n" and flat["/right"] == b"right\n"
    assert flat["/ctx.out"] == b"FROM THE CONTEXT\n" and flat["/tool.txt"] == b"tool data\n"
