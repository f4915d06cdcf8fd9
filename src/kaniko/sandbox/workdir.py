"""The WORKDIR of a RUN: created, owned by the RUN's user, before the RUN starts.

Docker creates a missing working directory for the process, owned by its user. kaniko
does it from the builder, on the host path of the directory resolved inside the root as
a chroot would (a symlink in the image, dangling or not, is followed within the root and
never out of it), so the RUN's init only has to ``chdir`` there.
"""

from __future__ import annotations

import os
from pathlib import Path

from kaniko.errors import BuildError, FilesystemError
from kaniko.fs.safepath import full_path, resolve_rel
from kaniko.fs.users import User


def make_workdir(root: Path, workdir: str, user: User) -> None:
    """Create the missing directories of ``workdir`` inside ``root``, owned by ``user``."""
    try:
        resolved = resolve_rel(root, workdir)
    except FilesystemError as error:
        raise BuildError(f"RUN: WORKDIR {workdir}: {error}") from None
    current = ""
    for part in resolved.split("/") if resolved else ():
        current = f"{current}/{part}" if current else part
        path = full_path(root, current)
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            continue
        except OSError as error:
            raise BuildError(f"RUN: WORKDIR {workdir}: {error.strerror}") from None
        os.chmod(path, 0o755)  # whatever kaniko's umask
        os.chown(path, user.uid, user.gid, follow_symlinks=False)
