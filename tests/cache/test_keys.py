"""Cache keys: one function, every input that changes a layer changes the key, nothing else."""

from __future__ import annotations

from kaniko.cache.keys import (
    cache_key,
    describe,
    image_identity,
    instruction_form,
    layer_options,
    rootfs_identity,
)
from kaniko.dockerfile.ast import Heredoc
from kaniko.dockerfile.commands import Copy, Run
from kaniko.oci.digest import Digest
from kaniko.oci.platform import Platform

AMD64, ARM64 = Platform.parse("linux/amd64"), Platform.parse("linux/arm64")
D1, D2 = Digest("sha256", "1" * 64), Digest("sha256", "2" * 64)


def run(cmd: str, line: int = 3, **kw: object) -> Run:
    return Run(original=f"RUN {cmd}", line=line, end_line=line, cmd=(cmd,), **kw)


def test_the_key_is_64_hex_digits_and_depends_on_parent_and_every_part() -> None:
    parts = [("step", "RUN x"), ("env", "[]")]
    key = cache_key("parent", parts)
    assert len(key) == 64 and int(key, 16) >= 0
    assert cache_key("parent", parts) == key  # one function, one value
    assert cache_key("other", parts) != key
    assert cache_key("parent", [("step", "RUN y"), ("env", "[]")]) != key
    assert cache_key("parent", [("step", "RUN x"), ("env", '[["A","1"]]')]) != key
    # a part cannot be shifted into its neighbour's name or value
    assert cache_key("p", [("a", "bc")]) != cache_key("p", [("ab", "c")])
    assert cache_key("p", [("a", "b"), ("c", "")]) != cache_key("p", [("a", "b\0c")])


def test_positions_are_not_part_of_an_instruction() -> None:
    assert instruction_form(run("make", line=3)) == instruction_form(run("make", line=40))
    assert instruction_form(run("make")) != instruction_form(run("make all"))
    assert instruction_form(run("make")) != instruction_form(run("make", network="none"))
    docs = (Heredoc(name="EOF", content="a\n"),)
    other = (Heredoc(name="EOF", content="b\n"),)
    assert instruction_form(run("<<EOF", heredocs=docs)) != instruction_form(
        run("<<EOF", heredocs=other)
    )
    copy = Copy(original="COPY a b", line=1, end_line=1, sources=("a",), dest="b")
    chowned = Copy(original="COPY a b", line=1, end_line=1, sources=("a",), dest="b", chown="1")
    assert instruction_form(copy).startswith("COPY ")
    assert instruction_form(copy) != instruction_form(chowned)


def test_layer_options_that_change_bytes_change_the_text() -> None:
    base = dict(reproducible=False, epoch=0, compression=None, level=-1, snapshot_mode="full",
                oci=False)  # fmt: skip
    text = layer_options(**base)  # type: ignore[arg-type]
    assert layer_options(**{**base, "epoch": 5}) == text  # type: ignore[arg-type]
    for change in ({"reproducible": True}, {"compression": "zstd"}, {"level": 9},
                   {"snapshot_mode": "redo"}, {"oci": True}):  # fmt: skip
        assert layer_options(**{**base, **change}) != text  # type: ignore[arg-type]
    assert layer_options(**{**base, "compression": "gzip"}) == text  # type: ignore[arg-type]


def test_identities_of_filesystems_and_images() -> None:
    assert rootfs_identity([D1, D2], AMD64) == rootfs_identity((D1, D2), AMD64)
    assert rootfs_identity([D1, D2], AMD64) != rootfs_identity([D2, D1], AMD64)
    assert rootfs_identity([D1], AMD64) != rootfs_identity([D1], ARM64)

    class Img:
        def digest(self) -> Digest:
            return D1

    assert image_identity(Img(), AMD64) == f"image:{D1}@linux/amd64"  # type: ignore[arg-type]


def test_the_debug_description_never_shows_values() -> None:
    text = describe("abc" * 30, [("args", '[["TOKEN","hunter2-secret"]]')])
    assert "hunter2" not in text and "args=" in text
