"""RUN --mount end to end through the CLI (chroot isolation): a secret is nowhere, a locked
cache serialises two builds, an interrupted step leaves nothing, ssh agents reach the step,
and a cache mount makes a rebuild download nothing again.

The in-place side (an unprivileged pod) is tests/e2e/pod/test_pod_run_mounts.py.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.lab.flatten import fetch, flatten, flatten_layers
from tests.lab.registry import Registry
from tests.sandbox.helpers import mounts_below

pytestmark = pytest.mark.e2e

SECRET = "kaniko-e2e-s3cr3t-Zq8w"
APT_CACHES = ("/var/cache/apt/", "/var/lib/apt/lists/")


def _kaniko(
    ctx: Path, kaniko_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "kaniko.cli", "-c", str(ctx), "--kaniko-dir", str(kaniko_dir),
            "--log-format", "text", *args]  # fmt: skip
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def _image_bytes(ref: str) -> dict[str, bytes]:
    """Every blob of ``ref`` as stored (manifest, config) or decompressed (layers)."""
    with tempfile.TemporaryDirectory(prefix="kaniko-blobs-") as tmp:
        manifest, _, layers = fetch(ref, Path(tmp) / "image")
        found = {"manifest": (Path(tmp) / "image" / "manifest.json").read_bytes()}
        config_hex = manifest["config"]["digest"].split(":", 1)[1]
        found["config"] = (Path(tmp) / "image" / config_hex).read_bytes()
        for number, layer in enumerate(layers):
            found[f"layer {number}"] = gzip.decompress(layer.read_bytes())
        return found


def test_a_secret_is_in_no_layer_config_history_or_log(
    tmp_path: Path, base_images: dict[str, str], registry_plain: Registry
) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (tmp_path / "token").write_text(SECRET + "\n")
    (ctx / "Dockerfile").write_text(f"""\
FROM {base_images["busybox"]}
RUN --mount=type=secret,id=token cat /run/secrets/token && wc -c < /run/secrets/token > /len
RUN --mount=type=secret,id=token,target=/etc/token,uid=1000,mode=0400 cat /etc/token
RUN --mount=type=secret,id=api,env=API_KEY,required echo "key is $API_KEY" && env | grep API_KEY
RUN echo done > /done
""")
    ref = f"{registry_plain.host}/mounts/secret:1"
    token = f"id=token,src={tmp_path / 'token'}"
    done = _kaniko(ctx, tmp_path / "kaniko", "-d", ref, "--secret", token,
                   "--secret", "id=api,env=THE_KEY", env={"THE_KEY": SECRET + "-env"})  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert SECRET not in log
    assert log.count("***") >= 4  # the step printed it four times; each one is masked
    for name, blob in _image_bytes(ref).items():
        assert SECRET.encode() not in blob, name
    tree = flatten(ref)
    assert tree["/len"].data == b"23\n"  # the step did read it
    assert "/run" not in tree and "/etc/token" not in tree
    assert list((tmp_path / "kaniko" / "builds").iterdir()) == []


def test_missing_required_secret_fails_before_any_work(
    tmp_path: Path, base_images: dict[str, str], registry_plain: Registry
) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM {base_images['busybox']}\nRUN echo work > /w\n"
        "RUN --mount=type=secret,id=missing,required true\n"
    )
    done = _kaniko(ctx, tmp_path / "kaniko", "--no-push")
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "Dockerfile:3: RUN --mount=type=secret,id=missing" in errors[0]
    assert "Unpacking" not in done.stdout + done.stderr  # no base was extracted, no RUN ran
    unreadable = _kaniko(ctx, tmp_path / "kaniko", "--no-push", "--secret", "id=x,src=/nonexistent")
    assert unreadable.returncode == 2
    assert "--secret id=x: cannot read /nonexistent" in unreadable.stderr


def _locked_build(
    ctx: Path, kaniko_dir: Path, cache: Path, out: list[subprocess.CompletedProcess[str]]
) -> None:
    out.append(_kaniko(ctx, kaniko_dir, "--no-push", "--cache-mount-dir", str(cache)))


@pytest.mark.parametrize("sharing", ["locked", "private"])
def test_two_concurrent_builds_on_one_cache(
    tmp_path: Path, base_images: dict[str, str], sharing: str
) -> None:
    """``locked``: the two steps never overlap, in one directory; ``private``: they overlap,
    each in a directory of its own."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"""\
FROM {base_images["busybox"]}
RUN --mount=type=cache,target=/c,sharing={sharing} \\
    echo "start $(cut -d' ' -f1 /proc/uptime) $(ls -di /c | cut -d' ' -f1)" >> /c/log && \\
    sleep 2 && echo "end $(cut -d' ' -f1 /proc/uptime)" >> /c/log
""")
    cache = tmp_path / "cache-mounts"
    results: list[subprocess.CompletedProcess[str]] = []
    threads = [
        threading.Thread(target=_locked_build, args=(ctx, tmp_path / f"k{n}", cache, results))
        for n in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert [r.returncode for r in results] == [0, 0], [r.stdout + r.stderr for r in results]
    logs = sorted(cache.glob("*/*/data/log"))
    spans = []
    for log in logs:
        lines = log.read_text().split()
        starts = [float(lines[i + 1]) for i, w in enumerate(lines) if w == "start"]
        ends = [float(lines[i + 1]) for i, w in enumerate(lines) if w == "end"]
        spans += list(zip(starts, ends, strict=True))
    spans.sort()
    assert len(spans) == 2
    overlap = spans[1][0] < spans[0][1]
    if sharing == "locked":
        assert len(logs) == 1 and not overlap
        assert any("Waiting for cache mount" in r.stdout + r.stderr for r in results)
    else:
        assert len(logs) == 2 and overlap


def _running(marker: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes().replace(b"\0", b" "):
                found.append(cmdline.parent.name)
        except OSError:
            continue
    return found


def test_sigterm_mid_step_leaves_no_mount_no_secret(
    tmp_path: Path, base_images: dict[str, str]
) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "src").mkdir(parents=True)
    (ctx / "src" / "f").write_text("f")
    (tmp_path / "token").write_text(SECRET)
    marker = f"sleep 7{os.getpid() % 1000}"
    (ctx / "Dockerfile").write_text(f"""\
FROM {base_images["busybox"]}
RUN --mount=type=secret,id=token --mount=type=cache,target=/c --mount=target=/src \\
    --mount=type=tmpfs,target=/t echo started && echo x > /c/x && {marker}
""")
    kaniko_dir = tmp_path / "kaniko"
    log = tmp_path / "log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kaniko.cli", "-c", str(ctx), "--no-push", "--kaniko-dir",
             str(kaniko_dir), "--log-format", "text", "--secret",
             f"id=token,src={tmp_path / 'token'}"],
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(kaniko_dir.glob("cache-mounts/*/0/data/x")):  # the step has begun
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    rest = log.read_text()
    assert proc.returncode == 143, rest
    assert not _running(marker), rest  # the step's processes died with the build
    assert list((kaniko_dir / "builds").iterdir()) == []
    assert mounts_below(tmp_path) == []
    found = subprocess.run(["grep", "-rl", SECRET, str(kaniko_dir)], capture_output=True, text=True)
    assert found.stdout == ""  # in no file left under the kaniko directory
    (cached,) = (kaniko_dir / "cache-mounts").glob("*/0/data/x")  # the cache kept its write
    assert cached.read_text() == "x\n"


@pytest.mark.skipif(subprocess.run(["which", "ssh-keygen"], capture_output=True).returncode,
                    reason="openssh-client is not installed")  # fmt: skip
def test_ssh_agent_in_a_step_from_a_key_file(tmp_path: Path, debian_image: str) -> None:
    """Debian's perl speaks the agent protocol from inside the step: it lists the key."""
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "build-key@ci", "-f",
                    str(key)], check=True)  # fmt: skip
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "list.pl").write_text(PERL_LIST_KEYS)
    (ctx / "Dockerfile").write_text(f"""\
FROM {debian_image}
RUN --mount=type=ssh --mount=target=/ctx stat -c '%a %u' "$SSH_AUTH_SOCK" \\
    && echo "$SSH_AUTH_SOCK" && perl /ctx/list.pl
RUN --mount=type=ssh,id=deploy,target=/tmp/agent,uid=1000,mode=0660 stat -c '%a %u' /tmp/agent
RUN --mount=type=ssh,id=absent test ! -e /run/buildkit/ssh_agent.0 && echo not-mounted
""")
    done = _kaniko(ctx, tmp_path / "kaniko", "--no-push", "--ssh", f"default={key}",
                   "--ssh", f"deploy={key}")  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    for expected in ("] 600 0", "] /run/buildkit/ssh_agent.0", "] keys: 1 ",
                     "] 660 1000", "] not-mounted"):  # fmt: skip
        assert expected in log, log


PERL_LIST_KEYS = r"""
use IO::Socket::UNIX;
my $s = IO::Socket::UNIX->new(Peer => $ENV{SSH_AUTH_SOCK}) or die "connect: $!";
print $s pack("NC", 1, 11);
read($s, my $len, 4); read($s, my $body, unpack("N", $len));
my ($type, $count) = unpack("CN", $body);
my $rest = substr($body, 5);
my $blob_len = unpack("N", $rest); $rest = substr($rest, 4 + $blob_len);
my $comment_len = unpack("N", $rest); my $comment = substr($rest, 4, $comment_len);
print "keys: $count $comment\n";
"""


def _step_ms(log: str) -> int:
    found = re.search(r"\] step-ms (\d+)", log)
    assert found, log
    return int(found.group(1))


def test_an_apt_cache_mount_makes_the_rebuild_download_nothing(
    tmp_path: Path, debian_image: str, registry_plain: Registry
) -> None:
    """Two builds, one cache store: the second step fetches no package again (apt says it
    needs 0 B); the cache's content is in neither image. The step times are printed, not
    asserted (timing belongs to benchmarks)."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"""\
FROM {debian_image}
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\
    start=$(date +%s%N) && apt-get update -q && \\
    apt-get install -y -q --no-install-recommends git-man less && \\
    echo "step-ms $(( ($(date +%s%N) - start) / 1000000 ))"
""")
    cache = tmp_path / "cache-mounts"
    times = []
    for number in (1, 2):
        ref = f"{registry_plain.host}/mounts/apt:{number}"
        done = _kaniko(ctx, tmp_path / "kaniko", "-d", ref, "--cache-mount-dir", str(cache),
                       timeout=900)  # fmt: skip
        log = done.stdout + done.stderr
        assert done.returncode == 0, log[-3000:]
        times.append(_step_ms(log))
        if number == 2:
            assert "Need to get 0 B/" in log, log[-3000:]
        with tempfile.TemporaryDirectory(prefix="kaniko-apt-") as tmp:
            *_, layers = fetch(ref, Path(tmp) / "image")
            run_layer = flatten_layers(layers[-1:])
        cached = [p for p in run_layer if p.startswith(APT_CACHES) or p.endswith(".deb")]
        assert cached == [], cached  # no downloaded .deb, no package list in the step's layer
        assert "/var/lib/dpkg/info/git-man.list" in run_layer  # the package is installed
    print(f"\napt step with a cache mount: first build {times[0]} ms, rebuild {times[1]} ms")
    assert list(cache.glob("*/0/data/archives/git-man_*.deb"))
