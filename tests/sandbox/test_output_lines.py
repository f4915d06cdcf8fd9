"""Splitting a RUN's output into lines, however the bytes arrive."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.sandbox.output import MAX_LINE, LineSplitter


def split(chunks: list[bytes]) -> list[str]:
    lines: list[str] = []
    splitter = LineSplitter(lines.append)
    for chunk in chunks:
        splitter.feed(chunk)
    splitter.close()
    return lines


def expected(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    if not text:
        return []
    lines = text.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"\n", b"\xc3\xa9", b"\xe2\x82\xac", b"\xff", b"\r", b"xyz"])),
    st.data(),
)
def test_any_chunking_gives_the_lines_of_the_whole(
    pieces: list[bytes], data: st.DataObject
) -> None:
    whole = b"".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(whole)), max_size=8)))
    chunks = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]
    assert split(chunks) == expected(whole)


def test_multibyte_character_split_across_reads() -> None:
    assert split([b"caf\xc3", b"\xa9\n"]) == ["café"]


def test_truncated_character_at_the_end() -> None:
    assert split([b"end\xe2\x82"]) == ["end\ufffd"]


def test_long_line_is_handed_over_in_bounded_pieces() -> None:
    lines = split([b"x" * (MAX_LINE * 2 + 10), b"\nnext\n"])
    assert [len(line) for line in lines] == [MAX_LINE, MAX_LINE, 10, 4]
    assert lines[-1] == "next"
