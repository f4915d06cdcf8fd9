"""binfmt_misc handlers: read as the kernel lists them, matched as the kernel matches them.

The handler files below are verbatim copies of what Debian 12's qemu-user-static and
binfmt-support register (``/proc/sys/fs/binfmt_misc/qemu-*``); a directory of such files
stands in for ``/proc/sys/fs/binfmt_misc`` (fault injection: no handler, a disabled one,
one without the fix-binary flag).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.oci.platform import Platform
from kaniko.sandbox import binfmt

QEMU = {
    "qemu-aarch64": (
        "7f454c460201010000000000000000000200b700",
        "ffffffffffffff00fffffffffffffffffeffffff",
    ),
    "qemu-arm": (
        "7f454c4601010100000000000000000002002800",
        "ffffffffffffff00fffffffffffffffffeffffff",
    ),
    "qemu-s390x": (
        "7f454c4602020100000000000000000000020016",
        "fffffffffffffffcfffffffffffffffffffeffff",
    ),
    "qemu-ppc64le": (
        "7f454c4602010100000000000000000002001500",
        "fffffffffffffffcfffffffffffffffffeffff00",
    ),
    "qemu-riscv64": (
        "7f454c460201010000000000000000000200f300",
        "ffffffffffffff00fffffffffffffffffeffffff",
    ),
}


def handler_text(name: str, *, state: str = "enabled", flags: str = "PF") -> str:
    magic, mask = QEMU[name]
    arch = name.removeprefix("qemu-")
    return (
        f"{state}\ninterpreter /usr/libexec/qemu-binfmt/{arch}-binfmt-P\nflags: {flags}\n"
        f"offset 0\nmagic {magic}\nmask {mask}\n"
    )


def binfmt_dir(tmp_path: Path, handlers: dict[str, str], status: str = "enabled") -> Path:
    directory = tmp_path / "binfmt_misc"
    directory.mkdir()
    (directory / "status").write_text(status + "\n")
    (directory / "register").write_text("")
    for name, text in handlers.items():
        (directory / name).write_text(text)
    return directory


def test_a_handler_file_is_read_as_the_kernel_lists_it(tmp_path: Path) -> None:
    path = tmp_path / "qemu-aarch64"
    path.write_text(handler_text("qemu-aarch64"))
    handler = binfmt.read_handler(path)
    assert handler is not None
    assert handler.enabled and handler.fix_binary and handler.offset == 0
    assert handler.interpreter == "/usr/libexec/qemu-binfmt/aarch64-binfmt-P"
    assert handler.magic == bytes.fromhex(QEMU["qemu-aarch64"][0])


def test_an_extension_handler_is_not_about_architectures(tmp_path: Path) -> None:
    path = tmp_path / "jar"
    path.write_text("enabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar\n")
    assert binfmt.read_handler(path) is None


@pytest.mark.parametrize(
    ("handler", "platform"),
    [
        ("qemu-aarch64", Platform("linux", "arm64")),
        ("qemu-arm", Platform("linux", "arm", "v7")),
        ("qemu-s390x", Platform("linux", "s390x")),
        ("qemu-ppc64le", Platform("linux", "ppc64le")),
        ("qemu-riscv64", Platform("linux", "riscv64")),
    ],
)
def test_each_handler_matches_its_architecture_s_elf_header_only(
    tmp_path: Path, handler: str, platform: Platform
) -> None:
    path = tmp_path / handler
    path.write_text(handler_text(handler))
    read = binfmt.read_handler(path)
    assert read is not None
    header = binfmt.elf_header(platform)
    assert header is not None and read.matches(header)
    for arch in ("amd64", "arm64", "arm", "s390x", "ppc64le", "riscv64", "386", "ppc64"):
        other = binfmt.elf_header(Platform("linux", arch))
        assert other is not None
        assert read.matches(other) == (arch == platform.architecture), arch


def test_emulation_finds_the_fix_binary_handler(tmp_path: Path) -> None:
    directory = binfmt_dir(
        tmp_path, {n: handler_text(n) for n in ("qemu-arm", "qemu-aarch64", "qemu-s390x")}
    )
    assert binfmt.emulation(Platform("linux", "arm64"), directory).name == "qemu-aarch64"


@pytest.mark.parametrize(
    ("handlers", "status", "message"),
    [
        ({}, "enabled", "no binfmt_misc handler for linux/arm64 programs is registered"),
        (
            {"qemu-arm": handler_text("qemu-arm")},
            "enabled",
            "no binfmt_misc handler for linux/arm64 programs is registered",
        ),
        (
            {"qemu-aarch64": handler_text("qemu-aarch64", state="disabled")},
            "enabled",
            "the binfmt_misc handler qemu-aarch64 for linux/arm64 is disabled",
        ),
        (
            {"qemu-aarch64": handler_text("qemu-aarch64", flags="")},
            "enabled",
            "lacks the fix-binary flag F (flags: none)",
        ),
        (
            {"qemu-aarch64": handler_text("qemu-aarch64")},
            "disabled",
            "no binfmt_misc handler for linux/arm64 programs is registered",
        ),
    ],
)
def test_no_usable_handler_is_one_line_saying_why(
    tmp_path: Path, handlers: dict[str, str], status: str, message: str
) -> None:
    directory = binfmt_dir(tmp_path, handlers, status)
    with pytest.raises(LookupError) as info:
        binfmt.emulation(Platform("linux", "arm64"), directory)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_an_unmounted_binfmt_misc_cannot_tell(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()  # a container's /proc/sys/fs/binfmt_misc: not mounted
    with pytest.raises(binfmt.Unreadable):
        binfmt.emulation(Platform("linux", "arm64"), tmp_path / "empty")


def test_native_platforms_need_no_emulation() -> None:
    amd64 = Platform("linux", "amd64")
    assert binfmt.native(amd64, amd64)
    assert binfmt.native(Platform("linux", "386"), amd64)
    assert not binfmt.native(Platform("linux", "arm64"), amd64)
    assert not binfmt.native(Platform("windows", "amd64"), amd64)
    assert binfmt.native(Platform("linux", "arm64"), Platform("linux", "arm64"))


def test_an_unknown_architecture_has_no_emulation(tmp_path: Path) -> None:
    directory = binfmt_dir(tmp_path, {})
    with pytest.raises(LookupError, match="no emulation is known for linux/wasm"):
        binfmt.emulation(Platform("linux", "wasm"), directory)
