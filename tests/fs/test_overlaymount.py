"""Overlay mount options: volatile where the kernel takes it, plain where it does not."""

from __future__ import annotations

import ctypes
import errno

import pytest

from kaniko.fs import overlaymount
from kaniko.fs.overlaymount import OverlayRefused, mount_overlay, overlay_data


def test_writable_mounts_are_volatile_read_only_views_are_not() -> None:
    writable = overlay_data(["/l"], "/u", "/w").split(",")
    assert "volatile" in writable and "upperdir=/u" in writable
    assert "volatile" not in overlay_data(["/l"]).split(",")
    assert "volatile" not in overlay_data(["/l"], "/u", "/w", volatile=False).split(",")


class _Kernel:
    """A stand-in for mount(2) that knows no ``volatile`` (a kernel before 5.10)."""

    def __init__(self, *, refuse_all: bool = False) -> None:
        self.calls: list[str] = []
        self.refuse_all = refuse_all

    def __call__(self, source: bytes, target: bytes, fstype: bytes, flags: int, data: bytes):
        self.calls.append(data.decode())
        if self.refuse_all or b"volatile" in data.split(b","):
            ctypes.set_errno(errno.EINVAL)
            return -1
        return 0


def test_a_kernel_without_volatile_gets_plain_mounts_from_then_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kernel = _Kernel()
    monkeypatch.setattr(overlaymount, "_mount", kernel)
    monkeypatch.setattr(overlaymount, "_volatile", True)
    mount_overlay("/m", ["/l"], "/u", "/w1")
    mount_overlay("/m", ["/l"], "/u2", "/w2")
    volatile = ["volatile" in call.split(",") for call in kernel.calls]
    assert volatile == [True, False, False]  # asked once, never again


def test_a_refusal_without_volatile_is_still_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    kernel = _Kernel(refuse_all=True)
    monkeypatch.setattr(overlaymount, "_mount", kernel)
    monkeypatch.setattr(overlaymount, "_volatile", True)
    with pytest.raises(OverlayRefused, match="overlay mount at /m"):
        mount_overlay("/m", ["/l"], "/u", "/w")
    assert len(kernel.calls) == 2
    assert overlaymount._volatile  # not the option's fault: keep asking for it
