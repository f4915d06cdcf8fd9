"""The conformance oracle works: flatten, compare, buildah builds, crun runs, Debian base.

The first tests feed hand-made layers to the flattener (no tools); the rest use the real
lab: buildah builds and pushes, skopeo reads back, crun runs, debootstrap makes Debian.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
from pathlib import Path

import pytest
import zstandard

from tests.lab.crun import run_image
from tests.lab.flatten import (
    CHAR,
    DIR,
    FIFO,
    FILE,
    SYMLINK,
    LabToolError,
    compare_configs,
    compare_trees,
    config,
    fetch,
    flatten,
    flatten_layers,
    history,
    image_config,
)
from tests.lab.oracle import buildah_build, strip_run_placeholders
from tests.lab.registry import Registry


def layer(*members: tuple) -> bytes:
    """A plain tar layer of (name, kind, extra) members; kind in file/dir/... or 'link'."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, *rest in members:
            extra = rest[0] if rest else {}
            info = tarfile.TarInfo(name)
            info.mode = extra.get("mode", 0o755 if kind == DIR else 0o644)
            info.uid, info.gid = extra.get("ids", (0, 0))
            info.pax_headers = extra.get("pax", {})
            data = extra.get("data", b"")
            info.type = {
                FILE: tarfile.REGTYPE,
                DIR: tarfile.DIRTYPE,
                SYMLINK: tarfile.SYMTYPE,
                FIFO: tarfile.FIFOTYPE,
                CHAR: tarfile.CHRTYPE,
                "link": tarfile.LNKTYPE,
            }[kind]
            info.linkname = extra.get("target", "")
            info.devmajor, info.devminor = extra.get("dev", (0, 0))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if kind == FILE else None)
    return out.getvalue()


LOWER = layer(
    ("etc", DIR),
    ("etc/keep", FILE, {"data": b"k"}),
    ("etc/gone", FILE, {"data": b"g"}),
    ("opt/tree/a", FILE, {"data": b"a"}),  # no entry for opt/ nor opt/tree/: implicit
    ("data", DIR),
    ("data/old", FILE),
    ("bin/tool", FILE, {"data": b"tool", "mode": 0o4755}),
    ("bin/alias", "link", {"target": "bin/tool"}),
    ("swap", DIR),
    ("swap/inner", FILE),
)


def test_flatten_whiteouts_opaque_and_replacements() -> None:
    upper = layer(
        ("etc/.wh.gone", FILE),
        ("opt/.wh.tree", FILE),
        (".wh.never-existed", FILE),
        ("data", DIR, {"mode": 0o1777}),
        ("data/.wh..wh..opq", FILE),
        ("data/new", FILE, {"data": b"n"}),
        ("etc/.wh.keep", FILE),  # hides the lower file, not the one of its own layer:
        ("etc/keep", FILE, {"data": b"again"}),
        ("swap", FILE, {"data": b"now a file"}),  # replaces the directory and its tree
    )
    tree = flatten_layers([LOWER, upper])
    assert "/etc/gone" not in tree and "/opt/tree" not in tree and "/swap/inner" not in tree
    assert tree["/opt"].type == DIR and tree["/opt"].mode == 0o755  # implicit parent
    assert [p for p in tree if p.startswith("/data/")] == ["/data/new"]
    assert tree["/data"].mode == 0o1777
    assert tree["/etc/keep"].data == b"again"
    assert tree["/swap"].type == FILE
    assert "/" not in tree


def test_flatten_hardlinks_modes_devices_xattrs() -> None:
    capability = b"\x01\x00\x00\x02\x00\x20\x00\x00"  # not valid UTF-8: must round-trip
    upper = layer(
        ("bin/tool2", "link", {"target": "/bin/tool"}),  # to a file of a lower layer
        ("dev/null", CHAR, {"dev": (1, 3), "mode": 0o666}),
        ("run/fifo", FIFO, {"ids": (1000, 1001)}),
        ("usr/ping", FILE, {"pax": {"SCHILY.xattr.security.capability": capability.decode(
            "utf-8", "surrogateescape")}}),
    )  # fmt: skip
    tree = flatten_layers([LOWER, upper])
    group = ("/bin/alias", "/bin/tool", "/bin/tool2")
    assert all(tree[p].hardlinks == group for p in group)
    assert tree["/bin/tool2"].mode == 0o4755 and tree["/bin/tool2"].data == b"tool"
    assert tree["/dev/null"].device == (1, 3) and tree["/dev/null"].type == CHAR
    assert (tree["/run/fifo"].type, tree["/run/fifo"].uid, tree["/run/fifo"].gid) == (
        FIFO,
        1000,
        1001,
    )
    assert tree["/usr/ping"].xattrs == {"security.capability": capability}
    # Replacing one name breaks the link for that name only.
    broken = flatten_layers([LOWER, upper, layer(("bin/tool", FILE, {"data": b"new"}))])
    assert broken["/bin/tool"].hardlinks == ()
    assert broken["/bin/alias"].hardlinks == ("/bin/alias", "/bin/tool2")


def test_flatten_reads_gzip_and_zstd_and_rejects_escapes(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "layer.gz").write_bytes(gzip.compress(LOWER))
    zstd = zstandard.ZstdCompressor().compress(LOWER)
    assert flatten_layers([tmp_path / "layer.gz"]) == flatten_layers([zstd])
    with pytest.raises(ValueError, match="escapes"):
        flatten_layers([layer(("../evil", FILE))])


def test_compare_trees_reports_differences_and_honours_allow() -> None:
    a = flatten_layers([LOWER])
    b = flatten_layers(
        [
            LOWER,
            layer(
                ("etc/keep", FILE, {"data": b"K", "mode": 0o600}),
                ("var/log/x/y", FILE),
                ("bin/.wh.alias", FILE),
            ),
        ]
    )
    found = compare_trees(a, b, labels=("kaniko", "buildah"))
    assert found == [
        "/bin/alias: only in kaniko (file)",
        "/bin/tool: hardlinked with ['/bin/alias', '/bin/tool'] != []",
        "/etc/keep: mode 0o644 != 0o600",
        "/etc/keep: content b'k' != b'K'",
        "/var: only in buildah (dir) (and 3 entries under it)",
    ]
    allow = {"/var*": "logs differ per run", "/etc/keep": "test", "/bin/alias": "test"}
    assert compare_trees(a, b, allow=allow) == []
    assert compare_trees(a, a) == []


def test_compare_configs_normalises_empty_values() -> None:
    a = {"Env": ["A=1"], "Entrypoint": None, "Healthcheck": {"Test": ["CMD", "x"]}}
    b = {"Env": ["A=1"], "Entrypoint": [], "Volumes": {}, "Healthcheck": {
        "Test": ["CMD", "x"], "Retries": 0}, "Hostname": "ignored"}  # fmt: skip
    assert compare_configs(a, b) == []
    assert compare_configs(a, {**b, "User": "nobody"}, labels=("k", "b")) == [
        'User: null (k) != "nobody" (b)'
    ]
    assert compare_configs({"ExposedPorts": {"80/tcp": {}}}, {}) == [
        'ExposedPorts: {"80/tcp": {}} (a) != null (b)'
    ]
    assert compare_configs(a, b, fields=["Hostname"]) == ['Hostname: null (a) != "ignored" (b)']


# -- the real lab ---------------------------------------------------------------------------

DOCKERFILE = """\
FROM {base}
RUN mkdir -p /opt/app/sub && echo hello > /opt/app/sub/greeting && chmod 4755 /opt/app/sub/greeting && ln /opt/app/sub/greeting /opt/app/hard && ln -s sub/greeting /opt/app/link && mkfifo /opt/app/pipe && rm /etc/group && rm -r /home
ENV GREETING=hello
CMD ["cat", "/opt/app/sub/greeting"]
"""  # noqa: E501


@pytest.fixture(scope="module")
def built(tmp_path_factory, registry_plain: Registry, base_images) -> str:
    context = tmp_path_factory.mktemp("oracle-context")
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=base_images["busybox"]))
    return buildah_build(context, "Dockerfile", registry=registry_plain, repo_tag="oracle/one")


@pytest.mark.e2e
def test_busybox_base_flattens_with_applet_symlinks(base_images) -> None:
    tree = flatten(base_images["busybox"])
    assert tree["/bin/busybox"].type == FILE and tree["/bin/busybox"].mode == 0o755
    for applet in ("/bin/sh", "/bin/ls", "/usr/bin/env", "/sbin/init"):
        assert (tree[applet].type, tree[applet].linkname) == (SYMLINK, "/bin/busybox")
    assert tree["/tmp"].mode == 0o1777 and tree["/root"].mode == 0o700
    assert b"nobody:x:65534" in (tree["/etc/passwd"].data or b"")


@pytest.mark.e2e
def test_buildah_build_makes_whiteouts_and_the_expected_tree(
    built: str, base_images, tmp_path: Path
) -> None:
    assert "@sha256:" in built
    _, _, layers = fetch(built, tmp_path / "image")
    with tarfile.open(layers[-1]) as tar:
        names = set(tar.getnames())
    assert {"etc/.wh.group", ".wh.home"} <= names
    base = flatten(base_images["busybox"])
    tree = strip_run_placeholders(flatten(built), base)
    greeting = tree["/opt/app/sub/greeting"]
    assert (greeting.type, greeting.mode, greeting.data) == (FILE, 0o4755, b"hello\n")
    assert greeting.sha256 == hashlib.sha256(b"hello\n").hexdigest()
    assert greeting.hardlinks == ("/opt/app/hard", "/opt/app/sub/greeting")
    assert tree["/opt/app/link"].linkname == "sub/greeting"
    assert tree["/opt/app/pipe"].type == FIFO
    assert compare_trees(base, tree, labels=("base", "built")) == [
        "/etc/group: only in base (file)",
        "/home: only in base (dir)",
        "/opt: only in built (dir) (and 6 entries under it)",
    ]
    # buildah's RUN left its mount points; the base had none of them.
    raw = flatten(built)
    assert {p for p in raw if p not in tree} >= {"/proc", "/etc/hostname"}
    assert not any(posixpath.dirname(p) == "/proc" for p in raw)


@pytest.mark.e2e
def test_buildah_config_history_and_crun_run(built: str, base_images) -> None:
    cfg = config(built)
    expected = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "GREETING=hello"],
        "Cmd": ["cat", "/opt/app/sub/greeting"],
    }  # fmt: skip
    assert compare_configs(expected, cfg) == []
    assert compare_configs(config(base_images["busybox"]), cfg) == [
        'Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] (a) != '
        '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", '
        '"GREETING=hello"] (b)',
        'Cmd: ["sh"] (a) != ["cat", "/opt/app/sub/greeting"] (b)',
    ]
    assert [h["created_by"] for h in history(built)][-1] == (
        '/bin/sh -c #(nop) CMD ["cat", "/opt/app/sub/greeting"]'
    )
    run = run_image(built)
    assert (run.returncode, run.stdout) == (0, "hello\n"), run.stderr
    run = run_image(built, ["sh", "-c", "echo $GREETING; ls /home; exit 3"])
    assert run.returncode == 3 and run.stdout == "hello\n"
    assert "/home" in run.stderr


@pytest.mark.e2e
def test_buildah_failure_raises_with_its_output(
    tmp_path: Path, registry_plain: Registry, base_images
) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_images['busybox']}\nRUN echo about-to-fail && exit 7\n"
    )
    with pytest.raises(LabToolError, match="buildah bud") as info:
        buildah_build(tmp_path, "Dockerfile", registry=registry_plain, repo_tag="oracle/fail")
    assert "about-to-fail" in str(info.value) and "exit status 7" in str(info.value)


@pytest.mark.e2e
def test_debian_image_slow_first_run(debian_image: str) -> None:
    """The slow one: the first run on a machine debootstraps (~40 s), later ones read the
    cached rootfs and only push it."""
    tree = flatten(debian_image)
    assert tree["/usr/bin/apt-get"].type == FILE
    assert tree["/usr/bin/passwd"].mode == 0o4755
    assert (tree["/var/mail"].mode, tree["/var/mail"].gid) == (0o2775, 8)
    assert tree["/bin"].linkname == "usr/bin"
    assert not [p for p in tree if p.startswith("/dev/")]
    assert "/etc/hostname" not in tree
    run = run_image(debian_image, ["apt-get", "--version"])
    assert run.returncode == 0 and run.stdout.startswith("apt "), run.stderr


@pytest.mark.e2e
def test_buildah_build_args_target_and_platform(
    tmp_path: Path, registry_plain: Registry, base_images
) -> None:
    (tmp_path / "build.Dockerfile").write_text(
        "ARG BASE\nFROM $BASE AS first\nARG WHO=nobody\nLABEL who=$WHO\n"
        "FROM first AS second\nLABEL stage=second\n"
    )
    ref = buildah_build(
        tmp_path,
        tmp_path / "build.Dockerfile",
        registry=registry_plain,
        repo_tag="oracle/staged:v1",
        build_args=[f"BASE={base_images['multiarch']}", "WHO=me"],
        target="first",
        platform="linux/arm64",
    )
    assert ref.startswith(f"{registry_plain.host}/oracle/staged@sha256:")
    document = image_config(ref)
    assert document["architecture"] == "arm64"
    assert document["config"]["Labels"] == {"a": "arm64", "who": "me"}
