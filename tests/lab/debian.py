"""The lab's Debian base image: ``debootstrap --variant=minbase bookworm``, cached on disk.

The mirror is the one this machine's apt uses (read from /etc/apt/sources.list and
/etc/apt/sources.list.d/, one-line and deb822 formats), so nothing here names a host. The
root filesystem becomes one gzip layer (GNU tar: numeric ids, xattrs, hardlinks, sorted)
cached under ``$KANIKO_LAB_CACHE`` or ``~/.cache/kaniko-lab``, next to a key file naming
the recipe, mirror, suite and architecture; the cache is rebuilt when the key changes or
after ``MAX_AGE_DAYS``. An exclusive lock lets parallel pytest-xdist workers (separate
processes, sharing the cache) wait for one debootstrap instead of running several.

Before packing, what belongs to this machine or to one run is removed, as Debian's
official images do: apt's package lists and downloaded .debs, the device nodes debootstrap
made in /dev, and the host's /etc/hostname and /etc/resolv.conf.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
from pathlib import Path

from tests.lab.flatten import LabToolError, run_tool
from tests.lab.tools import require_tool

SUITE = "bookworm"
VARIANT = "minbase"
RECIPE = 1  # bump when the rootfs recipe below changes: invalidates every cache
MAX_AGE_DAYS = 30
NAME = f"debian-{SUITE}-{VARIANT}"
DEBOOTSTRAP_TIMEOUT = 1800.0


def cache_dir() -> Path:
    """Where the rootfs tarball lives between runs."""
    configured = os.environ.get("KANIKO_LAB_CACHE")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kaniko-lab"


def _sources(apt_dir: Path) -> list[tuple[str, list[str]]]:
    """(URI, suites) of every enabled ``deb`` source, in file order."""
    found: list[tuple[str, list[str]]] = []
    one_line = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in one_line:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            words = line.split("#", 1)[0].split()
            if words[:1] != ["deb"]:
                continue
            words = words[1:]
            if words and words[0].startswith("["):  # options: [arch=amd64 signed-by=…]
                while words and not words[0].endswith("]"):
                    words.pop(0)
                words = words[1:]
            if len(words) >= 2:
                found.append((words[0], [words[1]]))
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                found.append((uri, fields.get("suites", "").split()))
    return found


def debian_mirror(apt_dir: Path = Path("/etc/apt"), suite: str = SUITE) -> str:
    """The URI of the first enabled apt source that carries ``suite`` itself."""
    for uri, suites in _sources(apt_dir):
        if suite in suites:
            return uri.rstrip("/")
    raise LabToolError(f"no apt source for {suite} under {apt_dir}: cannot find a Debian mirror")


def _architecture() -> str:
    done = run_tool(["dpkg", "--print-architecture"], timeout=30, what="dpkg")
    return done.stdout.strip()


def _key(mirror: str, arch: str) -> dict:
    return {"recipe": RECIPE, "mirror": mirror, "suite": SUITE, "variant": VARIANT, "arch": arch}


def _fresh(directory: Path, key: dict, name: str = NAME) -> bool:
    tarball, key_file = directory / f"{name}.tar.gz", directory / f"{name}.json"
    if not (tarball.is_file() and key_file.is_file()):
        return False
    stored = json.loads(key_file.read_text())
    made = dt.date.fromisoformat(stored.pop("made", "1970-01-01"))
    return stored == key and (dt.date.today() - made).days < MAX_AGE_DAYS


def _trim(root: Path) -> None:
    """Remove what belongs to this machine or to this one run."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*"):
        for path in root.glob(pattern):
            if path.is_file() or path.is_symlink():
                path.unlink()
    for path in (root / "dev").iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    for name in ("etc/hostname", "etc/resolv.conf", "var/log/bootstrap.log"):
        (root / name).unlink(missing_ok=True)


def _debootstrap(work: Path, mirror: str, arch: str, tarball: Path) -> None:
    """debootstrap ``arch``; a foreign one in two stages: ``--foreign`` unpacks here, then
    ``--second-stage`` configures the packages in a chroot, its programs run by the
    host's qemu-user-static binfmt_misc handler (fix-binary flag: the emulator need not
    be in the chroot)."""
    root = work / "rootfs"
    # In a private mount namespace: /proc and /sys that debootstrap mounts in the target die
    # with it, even when it fails half-way, so nothing can leak onto the host.
    unshare = [require_tool("unshare"), "--mount", "--propagation", "private"]
    argv = [*unshare, require_tool("debootstrap"), f"--variant={VARIANT}", f"--arch={arch}"]
    foreign = arch != _architecture()
    if foreign:
        argv.append("--foreign")
    try:
        run_tool([*argv, SUITE, str(root), mirror], timeout=DEBOOTSTRAP_TIMEOUT, what="debootstrap")
        if foreign:
            second = [*unshare, require_tool("chroot"), str(root)]
            second += ["/debootstrap/debootstrap", "--second-stage"]
            run_tool(second, timeout=DEBOOTSTRAP_TIMEOUT, what="debootstrap --second-stage")
    except LabToolError as exc:
        log = root / "debootstrap" / "debootstrap.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise LabToolError(f"{exc}\n--- debootstrap.log ---\n{tail}") from exc
    _trim(root)
    run_tool(
        [require_tool("tar"), "--create", "--gzip", "--file", str(tarball), "--numeric-owner",
         "--xattrs", "--xattrs-include=*", "--sort=name", "--format=posix",
         "--pax-option=delete=atime,delete=ctime", "-C", str(root), "."],
        timeout=600,
        what="tar",
    )  # fmt: skip


def debian_rootfs_layer(directory: Path | None = None, arch: str | None = None) -> Path:
    """The cached gzip layer of a minbase bookworm root filesystem (made when missing),
    for Debian architecture ``arch`` (default: this machine's)."""
    directory = directory or cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    arch = arch or _architecture()
    name = NAME if arch == _architecture() else f"{NAME}-{arch}"
    key = _key(debian_mirror(), arch)
    tarball, key_file = directory / f"{name}.tar.gz", directory / f"{name}.json"
    with open(directory / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # other workers wait here for the one debootstrap
        if _fresh(directory, key, name):
            return tarball
        work = directory / f"build-{arch}-{os.getpid()}"
        for stale in directory.glob(f"build-{arch}-*"):  # left by a killed run; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        work.mkdir()
        try:
            partial = work / "layer.tar.gz"
            _debootstrap(work, key["mirror"], key["arch"], partial)
            os.replace(partial, tarball)
            key_file.write_text(json.dumps({**key, "made": dt.date.today().isoformat()}))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return tarball
