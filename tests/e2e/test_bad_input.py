"""Builds that must fail: one clear line, the right exit status, nothing pushed, no litter.

Each case runs the real command line (``kaniko.cli.main.main(argv)``) against the lab
registry and busybox base, and checks that:

- the exit status is 1 (a failing RUN passes its own code on, here 3);
- stderr ends with exactly one ``error: …`` line, and that line says what went wrong and
  where (the source and the near names, the user, the URL and its status …);
- the destination tag does not exist in the registry afterwards;
- the executor's workspace (``<kaniko-dir>/builds``) and every temp dir the build made
  (``TMPDIR`` points into the test's own directory) are gone.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from kaniko.cli.main import main
from kaniko.oci.platform import Platform
from kaniko.sandbox import binfmt
from tests.e2e.served import serve
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Bad:
    """A Dockerfile (``{base}``, ``{http}`` and ``{registry}`` are filled in), its context
    files, the exit status and the pieces the error line must hold."""

    dockerfile: str
    expected: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)
    exit_code: int = 1
    arrange: Callable[[Path], None] | None = None  # changes the context (its parent: outside)
    extra_args: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()  # must appear nowhere in stderr
    no_binfmt: bool = False  # binfmt_misc shows no handler (fault injection)


SECRET_AUTH = "c2VjcmV0LXVzZXI6aHVudGVyMg=="  # what a docker config.json holds


def _fifo(name: str) -> Callable[[Path], None]:
    def arrange(ctx: Path) -> None:
        (ctx / name).unlink(missing_ok=True)
        os.mkfifo(ctx / name)  # reading it would wait for a writer forever

    return arrange


def _dockerfile_links_out(ctx: Path) -> None:
    secret = ctx.parent / "config.json"
    secret.write_text('{"auths":{"registry.example":{"auth":"' + SECRET_AUTH + '"}}}\n')
    (ctx / "Dockerfile").unlink()
    (ctx / "Dockerfile").symlink_to(secret)


SERVED = b"the served bytes\n"
WRONG_SUM = "sha256:" + hashlib.sha256(b"something else").hexdigest()

CASES = {
    "context-sub-path-out-of-context": Bad(
        "FROM {base}\n",
        ("--context-sub-path ../..: leaves the build context",),
        extra_args=("--context-sub-path", "../.."),
        exit_code=2,
    ),
    "platform-unknown": Bad(
        "FROM {base}\n",
        ("--custom-platform: invalid platform 'linux/arm65': unknown architecture 'arm65'",),
        extra_args=("--custom-platform", "linux/amd64,linux/arm65"),
        exit_code=2,
    ),
    "platform-not-in-base-index": Bad(
        "FROM {multiarch}\nRUN true\n",
        ("Dockerfile:1: FROM {multiarch}", "no image for platform linux/s390x (available: "),
        extra_args=("--custom-platform", "linux/amd64,linux/s390x"),
    ),
    "platform-not-the-base-image": Bad(
        "FROM {base}\nCOPY a /a\n",
        ("Dockerfile:1: FROM {base}: the image is for {host} only", "platform linux/s390x"),
        files={"a": "a\n"},
        extra_args=("--custom-platform", "{host},linux/s390x"),
    ),
    "platform-without-emulator": Bad(
        "FROM {multiarch}\nCOPY a /a\nRUN true\n",
        (
            "Dockerfile:3: RUN for linux/{foreign}",
            "no binfmt_misc handler for linux/{foreign} programs is registered",
            "qemu-user-static",
        ),
        files={"a": "a\n"},
        extra_args=("--platform", "linux/amd64,linux/arm64"),
        no_binfmt=True,
    ),
    "base-lies-about-its-diff-id": Bad(
        "FROM {liar}\nRUN true\n",
        ("layer 1/1 (sha256:", "diff_id mismatch: the image config lists " + WRONG_SUM),
    ),
    "base-config-too-large": Bad(
        "FROM {bigconfig}\nRUN true\n",
        ("lab/bigconfig:latest: image config of", "bytes refused"),
    ),
    "nested-arg-defaults": Bad(
        "FROM {base}\nARG A=" + "${{A:-" * 300 + "x" + "}}" * 300 + "\nRUN true\n",
        ("Dockerfile:2: failed to process", "expansion nested too deeply"),
    ),
    "doubling-args": Bad(
        "FROM {base}\nARG A0=0123456789abcdef\n"
        + "".join(f"ARG A{i}=${{{{A{i - 1}}}}}${{{{A{i - 1}}}}}\n" for i in range(1, 40)),
        ("Dockerfile:19: failed to process", "expansion too large"),
    ),
    "dockerfile-fifo": Bad(
        "unused", ("Dockerfile", "is a FIFO, not a regular file"), arrange=_fifo("Dockerfile")
    ),
    "dockerignore-fifo": Bad(
        "FROM {base}\n",
        (".dockerignore is a FIFO, not a regular file",),
        arrange=_fifo(".dockerignore"),
    ),
    "dockerfile-symlink-out-of-context": Bad(
        "unused",
        ("Dockerfile", "is a symlink to a file outside the build context"),
        arrange=_dockerfile_links_out,
        absent=(SECRET_AUTH, SECRET_AUTH.upper(), "auths", "AUTHS"),
    ),
    "missing-source": Bad(
        "FROM {base}\nCOPY config.yml /etc/app/\n",
        ("COPY config.yml: no such file or directory in the build context", '"config.yaml"'),
        {"config.yaml": "x\n", "other.txt": "y\n"},
    ),
    "missing-source-in-dir": Bad(
        "FROM {base}\nCOPY src/mian.py /app/\n",
        ("COPY src/mian.py: no such file or directory", '"src/main.py"'),
        {"src/main.py": "x\n"},
    ),
    "outside-context": Bad(
        "FROM {base}\nCOPY ../outside.txt /\n",
        ("COPY ../outside.txt", "outside the build context"),
    ),
    "unknown-from-stage-index": Bad(
        "FROM {base}\nCOPY --from=4 /etc/passwd /x\n",
        ("Dockerfile:2: COPY --from: invalid stage index 4",),
    ),
    "unknown-from-image": Bad(
        "FROM {base}\nCOPY --from={registry}/library/no-such-image:1.0 /etc/passwd /x\n",
        ("no-such-image",),
    ),
    "run-fails": Bad(
        "FROM {base}\nRUN echo about to fail\nRUN exit 3\n",
        ("RUN (Dockerfile:3) exited 3",),
        exit_code=3,
    ),
    "run-unknown-user": Bad(  # a file operation takes uid 0 instead (BuildKit)
        "FROM {base}\nUSER nosuchuser\nRUN true\n",
        ("Dockerfile:3", "unknown user 'nosuchuser' (not in the image's /etc/passwd)"),
    ),
    "run-user-root-without-passwd": Bad(  # BuildKit: "unable to find user root"
        "FROM {base}\nRUN rm /etc/passwd\nUSER root\nRUN true\n",
        ("Dockerfile:4", "unknown user 'root' (the image has no /etc/passwd)"),
    ),
    "chown-passwd-not-a-file": Bad(
        "FROM {base}\nRUN rm /etc/passwd && mkdir /etc/passwd\nCOPY --chown=app f.txt /f\n",
        ("COPY --chown", "/etc/passwd is not a regular file"),
        {"f.txt": "f\n"},
    ),
    "url-404": Bad(
        "FROM {base}\nADD {http}/not-there.txt /x\n",
        ("ADD {http}/not-there.txt", "404"),
    ),
    "checksum-mismatch": Bad(
        "FROM {base}\nADD --checksum=" + WRONG_SUM + " {http}/served.txt /x\n",
        ("ADD {http}/served.txt", "checksum mismatch", WRONG_SUM),
    ),
}


@pytest.fixture(scope="module")
def hostile_bases(registry_plain: Registry, busybox_layer: bytes) -> dict[str, str]:
    """Base images that lie: a config listing a wrong diff_id, a 17 MiB config."""
    from kaniko.oci.platform import Platform
    from tests.lab.images import make_image, push_raw

    host = Platform.host()
    liar = make_image(
        [busybox_layer], arch=host.architecture, variant=host.variant, diff_ids=[WRONG_SUM]
    )
    big = make_image(
        [busybox_layer],
        arch=host.architecture,
        variant=host.variant,
        config={"Labels": {"padding": "x" * (17 << 20)}},
    )
    with httpx.Client(timeout=60) as client:
        push_raw(client, registry_plain.url, "lab/liar", "latest", liar)
        push_raw(client, registry_plain.url, "lab/bigconfig", "latest", big)
    return {
        "liar": f"{registry_plain.host}/lab/liar:latest",
        "bigconfig": f"{registry_plain.host}/lab/bigconfig:latest",
    }


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("served")
    (root / "served.txt").write_bytes(SERVED)
    with serve(root) as url:
        yield url


def _tag_exists(registry: Registry, repo: str, tag: str) -> bool:
    response = httpx.head(
        f"{registry.url}/v2/{repo}/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=30,
    )
    return response.status_code == 200


def _left_over(directory: Path) -> list[Path]:
    return list(directory.iterdir()) if directory.exists() else []


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_fails_cleanly(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    base_images: dict[str, str],
    registry_plain: Registry,
    http_url: str,
    hostile_bases: dict[str, str],
) -> None:
    bad = CASES[name]
    values = {
        "base": base_images["busybox"],
        "http": http_url,
        "registry": registry_plain.host,
        "multiarch": base_images["multiarch"],
        "host": str(Platform.host()),
        "foreign": "arm64" if Platform.host().architecture != "arm64" else "amd64",
        **hostile_bases,
    }
    if bad.no_binfmt:
        (tmp_path / "binfmt").mkdir()
        (tmp_path / "binfmt" / "status").write_text("enabled\n")
        monkeypatch.setattr(binfmt, "BINFMT_DIR", tmp_path / "binfmt")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (tmp_path / "outside.txt").write_text("outside\n")
    (ctx / "Dockerfile").write_text(bad.dockerfile.format(**values))
    for rel, text in bad.files.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(text)
    if bad.arrange is not None:
        bad.arrange(ctx)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.chdir(ctx)
    kaniko_dir = tmp_path / "kaniko"
    repo = f"bad/{name}"
    argv = [
        "--dockerfile", "Dockerfile", "--context", f"dir://{ctx}",
        "--destination", f"{registry_plain.host}/{repo}:latest",
        "--kaniko-dir", str(kaniko_dir), "--verbosity", "warning", "--log-format", "text",
        *(arg.format(**values) for arg in bad.extra_args),
    ]  # fmt: skip
    code = main(argv)
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == bad.exit_code, err
    assert len(errors) == 1 and err.rstrip().endswith(errors[0]), err
    for piece in bad.expected:
        assert piece.format(**values) in errors[0]
    for piece in bad.absent:
        assert piece not in err
    assert not _tag_exists(registry_plain, repo, "latest")
    assert _left_over(kaniko_dir / "builds") == []  # absent when planning failed
    assert _left_over(temp) == []


def test_run_failure_through_build_api(
    tmp_path: Path, base_images: dict[str, str], registry_plain: Registry
) -> None:
    """The library raises RunError with the RUN's code and the Dockerfile line."""
    from kaniko.errors import RunError
    from tests.e2e.builders import kaniko_build

    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {base_images['busybox']}\n\nRUN false || exit 42\n")
    ref = f"{registry_plain.host}/bad/run-api:latest"
    with pytest.raises(RunError) as caught:
        kaniko_build(ctx, ref, kaniko_dir=tmp_path / "kaniko")
    assert caught.value.exit_code == 42
    assert str(caught.value).startswith(f"RUN ({ctx / 'Dockerfile'}:3) exited 42: ")
    assert "\n" not in str(caught.value)
    assert not _tag_exists(registry_plain, "bad/run-api", "latest")
    assert _left_over(tmp_path / "kaniko" / "builds") == []
