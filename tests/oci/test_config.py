"""Image config model: reading, lossless round trips, Go-identical output, updates."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kaniko.errors import ImageError
from kaniko.oci.config import HealthConfig, History, ImageConfig, RunConfig, go_time
from kaniko.oci.digest import Digest

D1 = "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
D2 = "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# A config as the classic Docker builder writes it (nulls, container_config, docker_version).
DOCKER_CONFIG = {
    "architecture": "amd64",
    "config": {
        "Hostname": "",
        "Domainname": "",
        "User": "app",
        "AttachStdin": False,
        "Tty": False,
        "ExposedPorts": {"8080/tcp": {}, "443/tcp": {}},
        "Env": [PATH, "LANG=C.UTF-8"],
        "Cmd": ["python3", "-m", "app"],
        "Healthcheck": {
            "Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
            "Interval": 30000000000,
            "Timeout": 5000000000,
            "Retries": 3,
        },
        "ArgsEscaped": True,
        "Image": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
        "Volumes": {"/data": {}},
        "WorkingDir": "/srv",
        "Entrypoint": None,
        "OnBuild": ["RUN echo child"],
        "Labels": {"org.opencontainers.image.title": "app", "maintainer": "me <me@example.com>"},
        "StopSignal": "SIGTERM",
        "Shell": ["/bin/bash", "-c"],
    },
    "container": "3f1b6b0c8f6a",
    "container_config": {"Hostname": "3f1b6b0c8f6a", "Cmd": ["/bin/sh", "-c", "#(nop) "]},
    "created": "2024-03-01T12:34:56.789012345Z",
    "docker_version": "24.0.7",
    "history": [
        {"created": "2024-02-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:1 in / "},
        {
            "created": "2024-02-01T00:00:01Z",
            "created_by": '/bin/sh -c #(nop)  CMD ["bash"]',
            "empty_layer": True,
        },
        {
            "created": "2024-03-01T12:34:56Z",
            "created_by": "/bin/sh -c apt-get update && apt-get install -y curl",
            "comment": "buildkit.dockerfile.v0",
        },
    ],
    "os": "linux",
    "rootfs": {"type": "layers", "diff_ids": [D1, D2]},
}
DOCKER_BYTES = json.dumps(DOCKER_CONFIG, indent=4).encode()

# What go-containerregistry marshals for a busybox-like config (field order, escapes).
GGCR_BYTES = (
    '{"architecture":"arm64","created":"2024-01-01T00:00:00Z","history":['
    '{"created":"2024-01-01T00:00:00Z","created_by":"/bin/sh -c #(nop) ADD file:abc in / "},'
    '{"created":"2024-01-01T00:00:00Z","created_by":"RUN /bin/sh -c a \\u0026\\u0026 b '
    '# buildkit","comment":"buildkit.dockerfile.v0","empty_layer":true}],'
    f'"os":"linux","rootfs":{{"type":"layers","diff_ids":["{D1}"]}},'
    f'"config":{{"Cmd":["sh"],"Env":["{PATH}"],"Labels":{{"a":"\\u003cb\\u003e","b":"c"}},'
    '"ExposedPorts":{"53/udp":{},"80/tcp":{}}},"variant":"v8"}'
).encode()


def test_docker_config_fields() -> None:
    cfg = ImageConfig.from_json(DOCKER_BYTES)
    assert (cfg.os, cfg.architecture, cfg.variant) == ("linux", "amd64", "")
    assert cfg.created == "2024-03-01T12:34:56.789012345Z"
    run = cfg.config
    assert run.user == "app" and run.working_dir == "/srv"
    assert run.env == (PATH, "LANG=C.UTF-8")
    assert run.cmd == ("python3", "-m", "app") and run.entrypoint == ()
    assert run.exposed_ports == ("443/tcp", "8080/tcp")
    assert run.volumes == ("/data",)
    assert run.labels["maintainer"] == "me <me@example.com>"
    assert run.stop_signal == "SIGTERM" and run.shell == ("/bin/bash", "-c")
    assert run.on_build == ("RUN echo child",) and run.args_escaped
    assert run.healthcheck == HealthConfig(
        test=("CMD-SHELL", "curl -f http://localhost/ || exit 1"),
        interval=30_000_000_000,
        timeout=5_000_000_000,
        retries=3,
    )
    assert cfg.diff_ids == (Digest.parse(D1), Digest.parse(D2))
    assert [h.empty_layer for h in cfg.history] == [False, True, False]
    assert cfg.history[2].comment == "buildkit.dockerfile.v0"
    assert cfg.extra["docker_version"] == "24.0.7"
    assert "Image" in run.extra
    assert "Hostname" not in run.extra  # empty, so it means the same as absent


def test_docker_config_round_trip_loses_nothing() -> None:
    cfg = ImageConfig.from_json(DOCKER_BYTES)
    out = json.loads(cfg.to_json())
    assert out["container_config"] == DOCKER_CONFIG["container_config"]
    assert out["container"] == "3f1b6b0c8f6a" and out["docker_version"] == "24.0.7"
    assert out["config"]["Image"] == DOCKER_CONFIG["config"]["Image"]
    # only empty values (which Go's omitempty drops too) disappear
    dropped = {k for k, v in DOCKER_CONFIG["config"].items() if k not in out["config"]}
    assert dropped == {"Hostname", "Domainname", "AttachStdin", "Tty", "Entrypoint"}
    assert ImageConfig.from_json(cfg.to_json()) == cfg
    assert ImageConfig.from_json(cfg.to_json()).to_json() == cfg.to_json()
    assert list(out) == [
        "architecture", "container", "created", "docker_version", "history",
        "os", "rootfs", "config", "container_config",
    ]  # fmt: skip
    assert list(out["config"])[:4] == ["Cmd", "Healthcheck", "Env", "Image"]
    assert b"\\u0026\\u0026" in cfg.to_json()
    assert b'"8080/tcp":{}' in cfg.to_json()


def test_ggcr_output_round_trips_byte_for_byte() -> None:
    cfg = ImageConfig.from_json(GGCR_BYTES)
    assert cfg.history[1].created_by == "RUN /bin/sh -c a && b # buildkit"
    assert cfg.config.labels == {"a": "<b>", "b": "c"}
    assert cfg.platform.variant == "v8"
    assert cfg.to_json() == GGCR_BYTES


def test_oci_config_minimal() -> None:
    raw = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    cfg = ImageConfig.from_json(raw)
    assert cfg.config == RunConfig() and cfg.created is None and cfg.history == ()
    assert cfg.to_json() == raw[:-1] + b',"config":{}}'


def test_windows_fields_are_kept() -> None:
    doc = {
        "architecture": "amd64",
        "os": "windows",
        "os.version": "10.0.20348.2322",
        "os.features": ["win32k"],
        "rootfs": {"type": "layers", "diff_ids": [D1], "base_layer": "x"},
        "config": {"Env": ["A=1"]},
    }
    cfg = ImageConfig.from_json(json.dumps(doc).encode())
    assert cfg.os_version == "10.0.20348.2322" and cfg.os_features == ("win32k",)
    assert json.loads(cfg.to_json())["rootfs"]["base_layer"] == "x"
    assert list(json.loads(cfg.to_json()))[-2:] == ["os.version", "os.features"]


def test_immutable_updates() -> None:
    base = ImageConfig.from_json(DOCKER_BYTES)
    changed = (
        base.with_env("LANG", "en_US.UTF-8")
        .with_env("NEW", "x=y")
        .with_labels({"maintainer": "you", "version": "2"})
        .with_config(user="root", cmd=("sh",))
        .with_history(History(created_by="ENV NEW=x=y", empty_layer=True))
        .with_layer(Digest.parse(D1), History(created_by="COPY . /srv"))
        .replace(created="2025-01-01T00:00:00Z")
    )
    assert changed.config.env == (PATH, "LANG=en_US.UTF-8", "NEW=x=y")
    assert changed.config.get_env("NEW") == "x=y"
    assert changed.config.labels["maintainer"] == "you" and changed.config.labels["version"] == "2"
    assert (changed.config.user, changed.config.cmd) == ("root", ("sh",))
    assert changed.diff_ids[-1] == Digest.parse(D1) and len(changed.diff_ids) == 3
    assert [h.created_by for h in changed.history[-2:]] == ["ENV NEW=x=y", "COPY . /srv"]
    assert changed.created == "2025-01-01T00:00:00Z"
    # the original is untouched
    assert base == ImageConfig.from_json(DOCKER_BYTES)
    assert base.config.get_env("NEW") is None and base.config.user == "app"


def test_with_env_removes_later_duplicates() -> None:
    run = RunConfig(env=("A=1", "B=2", "A=3", "C"))
    assert run.env_map() == {"A": "3", "B": "2", "C": ""}
    assert run.with_env("A", "9").env == ("A=9", "B=2", "C")
    assert run.get_env("missing", "dflt") == "dflt"


PLUS2 = timezone(timedelta(hours=2))
MINUS930 = timezone(-timedelta(hours=9, minutes=30))


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC), "2024-05-01T12:00:00Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC), "2024-05-01T12:00:00.5Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 123456), "2024-05-01T12:00:00.123456Z"),
        (datetime(1970, 1, 1, tzinfo=UTC), "1970-01-01T00:00:00Z"),
        (datetime(2024, 5, 1, 14, 0, tzinfo=PLUS2), "2024-05-01T14:00:00+02:00"),
        (datetime(2024, 5, 1, 1, 0, tzinfo=MINUS930), "2024-05-01T01:00:00-09:30"),
    ],
)  # fmt: skip
def test_go_time(moment: datetime, text: str) -> None:
    assert go_time(moment) == text


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("rootfs"), "missing rootfs"),
        (lambda d: d["rootfs"].update(diff_ids="x"), "rootfs.diff_ids must be a list"),
        (lambda d: d["rootfs"]["diff_ids"].append("sha256:abc"), "rootfs.diff_ids[2]"),
        (lambda d: d["rootfs"]["diff_ids"].append(5), "not a string"),
        (lambda d: d.update(history={}), "history must be a list"),
        (lambda d: d["history"].append("x"), "history[3]: history entry is not a JSON object"),
        (lambda d: d["history"][0].update(created=5), "history[0]: created must be a string"),
        (lambda d: d["history"][0].update(empty_layer="yes"), "empty_layer must be a boolean"),
        (lambda d: d.update(created=1), "created must be a string"),
        (lambda d: d.update(architecture=1), "architecture must be a string"),
        (lambda d: d.update(config=[]), "config is not a JSON object"),
        (lambda d: d["config"].update(Cmd="sh"), "Cmd must be a list of strings"),
        (lambda d: d["config"].update(ArgsEscaped="true"), "ArgsEscaped must be a boolean"),
        (lambda d: d["config"].update(ExposedPorts=["80"]), "ExposedPorts must be a JSON object"),
        (lambda d: d["config"].update(Labels={"a": None}), "Labels must be a map of strings"),
        (lambda d: d["config"].update(Healthcheck=[]), "Healthcheck is not a JSON object"),
        (lambda d: d["config"]["Healthcheck"].update(Interval="3s"), "Interval must be an integer"),
    ],
)  # fmt: skip
def test_invalid_configs(mutate: Callable[[Any], object], message: str) -> None:
    doc = json.loads(DOCKER_BYTES)
    mutate(doc)
    with pytest.raises(ImageError, match=r"^image config") as info:
        ImageConfig.from_json(json.dumps(doc).encode())
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_not_json() -> None:
    with pytest.raises(ImageError, match="image config is not valid JSON"):
        ImageConfig.from_json(b"{")


def test_go_time_pads_the_year_like_go() -> None:
    from datetime import UTC, datetime

    from kaniko.oci.config import go_time

    assert go_time(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    assert go_time(datetime(1970, 1, 1, tzinfo=UTC)) == "1970-01-01T00:00:00Z"
