"""Assemble a self-contained Python for the kaniko executor image under one prefix.

The builder stage of ``deploy/Dockerfile`` runs this with the Debian ``python3`` it has
just installed; that interpreter is the one copied. The tree is written under ROOT/PREFIX
(``/rootfs/kaniko``) with every path baked in as PREFIX (``/kaniko``), where it will run:
in an in-place build ``/kaniko`` is the running executor and must not be written. It holds:

- ``bin/python3``: the interpreter, patched with ``patchelf`` so that its ELF program
  interpreter (``PT_INTERP``) is ``PREFIX/lib/<loader>`` and its ``DT_RPATH`` is
  ``PREFIX/lib``. ``DT_RPATH`` (not ``DT_RUNPATH``) also governs the dependencies of every
  extension module the interpreter loads later, and is searched before
  ``LD_LIBRARY_PATH`` and the system's directories, so a base image extracted over ``/``
  cannot swap a library under the running tool.
- ``bin/python3._pth``: the exact ``sys.path`` (stdlib, lib-dynload, site-packages). A
  ``._pth`` file also puts the interpreter in isolated mode without ``site``: no
  ``PYTHON*`` variable, user site or ``.pth`` file can change what it imports.
- ``lib/``: the dynamic loader and every shared library that ``ldd`` finds for the
  interpreter and for each extension module, plus ``libgcc_s.so.1`` (glibc loads it with
  ``dlopen`` to unwind a thread that exits, which ``ldd`` cannot see) and
  ``libseccomp.so.2`` (kaniko loads it through ``ctypes`` to compile the RUN's seccomp
  filter).
- ``lib/pythonX.Y/``: the standard library without what a builder never needs, with
  ``site-packages`` copied from ``--site`` (a ``pip install --target`` directory; its
  extension modules stripped, as wheels often carry megabytes of debug info). Every module
  is precompiled to an ``unchecked-hash`` .pyc in one process: valid whatever the files'
  mtimes (``--reproducible`` clamps them), and the same bytes on every build.
- ``executor`` and ``warmer``: the entrypoints, Python scripts whose
  ``#!PREFIX/bin/python3`` line the kernel itself follows (binfmt_script); no shell is
  involved.

Finally the staged ``executor version`` and ``warmer --help`` run through the staged loader
as a smoke test.
"""

from __future__ import annotations

import argparse
import compileall
import os
import py_compile
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterable
from pathlib import Path

VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
STDLIB_NAME = f"python{VERSION}"

# Top-level stdlib entries a builder never imports (GUI, tests, docs, packaging tools,
# interactive helpers), and extension modules with no use here or heavy dependencies.
# sqlite3 stays: the SBOM scanner reads rpm databases (rpmdb.sqlite) with it.
PRUNED_STDLIB = frozenset(
    {
        "test", "idlelib", "tkinter", "turtledemo", "turtle.py", "ensurepip", "lib2to3",
        "pydoc_data", "distutils", "venv", "curses", "dbm", "__phello__",
        "site-packages", "dist-packages", "sitecustomize.py", "lib-dynload",
    }
)  # fmt: skip
PRUNED_EXTENSIONS = frozenset(
    {
        "_tkinter", "_curses", "_curses_panel", "_dbm", "_gdbm", "readline",
        "nis", "ossaudiodev", "_crypt", "_ctypes_test", "xxlimited", "xxlimited_35",
        "_xxtestfuzz", "_testbuffer", "_testcapi", "_testclinic", "_testimportmultiple",
        "_testinternalcapi", "_testmultiphase",
    }
)  # fmt: skip
# site-packages paths the executor never imports, pruned to keep the image small:
# pygments and markdown-it are rich's, for syntax highlighting and Markdown (the progress
# display uses neither); botocore's service models except the services kaniko calls (its
# credential chain: sts, sso, sso-oidc, signin; S3 contexts; ECR logins); dulwich's tests,
# contrib, porcelain, server and command-line pieces (kaniko only fetches); google-auth's
# pure-Python RSA fallback (pyasn1, pyasn1_modules), never imported beside cryptography.
PRUNED_SITE = (
    "pygments", "markdown_it", "mdurl", "dulwich/tests", "dulwich/contrib", "dulwich/cloud",
    "dulwich/aiohttp", "dulwich/porcelain", "dulwich/cli.py", "dulwich/web.py",
    "dulwich/lfs_server.py", "pyasn1", "pyasn1_modules",
)  # fmt: skip
BOTOCORE_SERVICES = frozenset({"s3", "sts", "sso", "sso-oidc", "signin", "ecr", "ecr-public"})
# Libraries opened with dlopen at run time, copied when the system has them: glibc's
# libgcc_s (thread unwinding), and libseccomp, which kaniko.sandbox.seccomp loads through
# ctypes to compile the RUN steps' seccomp profile.
DLOPENED = ("libgcc_s.so.1", "libseccomp.so.2")
LAUNCHER = """\
#!{python}
# The kaniko {name}: the kernel runs this file with the interpreter named above.
import sys

from {module} import main

sys.exit(main())
"""
LAUNCHERS = {"executor": "kaniko.cli.main", "warmer": "kaniko.cli.warmer"}
"""The entrypoints under PREFIX: the executor, and the warmer (``/kaniko/warmer``)."""
_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(\S+)\s+\(0x[0-9a-f]+\)\s*$")
_LDD_MISSING = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")


class AssemblyError(Exception):
    """Something the image cannot be built without is missing."""


def _ignore(names: frozenset[str], top: Path) -> Callable[[str, list[str]], set[str]]:
    """A ``copytree`` filter: ``names`` only directly under ``top``; caches everywhere."""

    def ignore(directory: str, entries: list[str]) -> set[str]:
        skipped = {e for e in entries if e == "__pycache__" or e.endswith((".pyc", ".pyo"))}
        if Path(directory) == top:
            skipped |= {e for e in entries if e in names or e.startswith("config-")}
        return skipped

    return ignore


def copy_stdlib(source: Path, dynload: Path, dest: Path) -> None:
    """Copy the standard library and its extension modules, pruned."""
    shutil.copytree(source, dest, ignore=_ignore(PRUNED_STDLIB, source))
    target = dest / "lib-dynload"
    target.mkdir()
    for module in sorted(dynload.iterdir()):
        if module.name.split(".", 1)[0] not in PRUNED_EXTENSIONS and module.suffix == ".so":
            shutil.copy2(module, target / module.name)


def copy_site(source: Path, dest: Path) -> None:
    """Copy a ``pip install --target`` tree, without its scripts, caches and pruned parts."""
    shutil.copytree(source, dest, ignore=_ignore(frozenset({"bin"}), source))
    prune_site(dest)


def prune_site(site: Path) -> None:
    """Remove :data:`PRUNED_SITE` and botocore's unused service models from ``site``."""
    for rel in PRUNED_SITE:
        path = site / rel
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    models = site / "botocore" / "data"
    if models.is_dir():
        for entry in models.iterdir():
            if entry.is_dir() and entry.name not in BOTOCORE_SERVICES:
                shutil.rmtree(entry)


def ldd(path: Path) -> dict[str, Path]:
    """The shared libraries ``path`` needs, by the name it asks for."""
    done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:  # a static object has nothing to resolve
        return {}
    found: dict[str, Path] = {}
    for line in done.stdout.splitlines():
        if missing := _LDD_MISSING.match(line):
            raise AssemblyError(f"{path} needs {missing.group(1)}, which is not installed")
        match = _LDD_LINE.match(line)
        if match and "/" not in match.group(1):  # not the loader's own line
            found[match.group(1)] = Path(match.group(2))
    return found


def elf_files(tree: Path) -> list[Path]:
    """Every ELF object under ``tree`` whose name marks it as shared (``*.so*``)."""
    objects = []
    for path in sorted(tree.rglob("*.so*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    objects.append(path)
    return objects


def copy_libraries(objects: Iterable[Path], staged: Path) -> list[str]:
    """Copy every library ``objects`` need into ``staged/lib``; return their names.

    Libraries already inside ``staged`` (a wheel's vendored ``*.libs``) stay where they are.
    """
    needed: dict[str, Path] = {}
    for obj in objects:
        for name, resolved in ldd(obj).items():
            if not resolved.resolve().is_relative_to(staged):
                needed.setdefault(name, resolved)
    libc = needed.get("libc.so.6")
    for name in DLOPENED:
        if libc is not None and (libc.parent / name).exists():
            needed.setdefault(name, libc.parent / name)
    for name, resolved in sorted(needed.items()):
        shutil.copyfile(resolved.resolve(), staged / "lib" / name)
        (staged / "lib" / name).chmod(0o755)
    return sorted(needed)


def strip(objects: Iterable[Path]) -> None:
    """Drop symbols and debug sections (wheels often ship them: megabytes per module)."""
    for obj in objects:
        subprocess.run(["strip", "--strip-unneeded", str(obj)], check=True)


def patchelf(*args: str) -> str:
    done = subprocess.run(["patchelf", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssemblyError(f"patchelf {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def install_interpreter(executable: Path, staged: Path, prefix: Path) -> Path:
    """Copy the interpreter and its loader into ``staged``; point it at ``prefix/lib``."""
    python = staged / "bin" / "python3"
    python.parent.mkdir(parents=True)
    shutil.copy2(executable, python)
    loader = Path(patchelf("--print-interpreter", str(python)))
    shutil.copyfile(loader.resolve(), staged / "lib" / loader.name)
    (staged / "lib" / loader.name).chmod(0o755)
    patchelf("--set-interpreter", str(prefix / "lib" / loader.name), str(python))
    patchelf("--force-rpath", "--set-rpath", str(prefix / "lib"), str(python))
    return python


def write_path_config(python: Path, stdlib: Path) -> None:
    """``python3._pth``: sys.path relative to the interpreter's directory."""
    rel = os.path.relpath(stdlib, python.parent)
    entries = [rel, f"{rel}/lib-dynload", f"{rel}/site-packages"]
    Path(f"{python}._pth").write_text("\n".join(entries) + "\n")


def compile_all(stdlib: Path, runtime: Path) -> None:
    """Precompile every module in this one process (deterministic output), naming each
    source by its run-time path so that tracebacks show its lines."""
    ok = compileall.compile_dir(
        stdlib,
        ddir=runtime,
        quiet=2,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        workers=1,
    )
    if not ok:  # shipped as source only; compiled at import
        print("assemble: some modules did not compile", flush=True)


def smoke_test(staged: Path, python: Path, launcher: Path, word: str = "version") -> None:
    """Run a launcher with the staged loader and libraries: ``executor version``,
    ``warmer --help``."""
    loader = next(staged.glob("lib/ld-*.so*"))
    argv = [str(loader), "--library-path", str(staged / "lib"), str(python), str(launcher)]
    quiet = subprocess.DEVNULL if word != "version" else None
    subprocess.run([*argv, word], check=True, stdout=quiet)


def assemble(root: Path, prefix: Path, site: Path) -> None:
    """Lay out PREFIX under ROOT (``ROOT/PREFIX``) with every path baked in as PREFIX."""
    staged = root.resolve() / prefix.relative_to("/")
    (staged / "lib").mkdir(parents=True)
    python = install_interpreter(Path(sys.executable).resolve(), staged, prefix)
    stdlib = staged / "lib" / STDLIB_NAME
    copy_stdlib(
        Path(sysconfig.get_path("stdlib")),
        Path(sysconfig.get_config_var("DESTSHARED")),
        stdlib,
    )
    copy_site(site, stdlib / "site-packages")
    write_path_config(python, stdlib)
    strip(elf_files(stdlib / "site-packages"))
    libraries = copy_libraries([python, *elf_files(stdlib)], staged)
    print(f"assemble: {len(libraries)} libraries: {' '.join(libraries)}", flush=True)
    compile_all(stdlib, prefix / "lib" / STDLIB_NAME)
    for name, module in LAUNCHERS.items():
        launcher = staged / name
        launcher.write_text(
            LAUNCHER.format(python=prefix / "bin" / "python3", name=name, module=module)
        )
        launcher.chmod(0o755)
    smoke_test(staged, python, staged / "executor")
    smoke_test(staged, python, staged / "warmer", "--help")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="staging root directory")
    parser.add_argument("--prefix", type=Path, default=Path("/kaniko"), help="run-time path")
    parser.add_argument("--site", type=Path, required=True, help="a pip --target directory")
    args = parser.parse_args(argv)
    if not args.prefix.is_absolute():
        parser.error("--prefix must be absolute")
    try:
        assemble(args.root, args.prefix, args.site)
    except (AssemblyError, OSError, subprocess.CalledProcessError) as e:
        print(f"assemble: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
