"""Metadata instructions applied to an image config, as Docker applies them."""

from __future__ import annotations

import pytest

from kaniko.dockerfile.instructions import parse_instruction
from kaniko.dockerfile.parser import parse
from kaniko.errors import DockerfileError
from kaniko.executor import metadata
from kaniko.oci.config import ImageConfig
from kaniko.oci.runconfig import HealthConfig, RunConfig
from kaniko.plan import make_plan


def _apply(lines: str, config: ImageConfig | None = None) -> metadata.ConfigState:
    state = metadata.ConfigState(config or ImageConfig(os="linux", architecture="amd64"))
    plan = make_plan(parse("FROM scratch\n" + lines), build_args={})
    for step in plan.target.steps:  # words expanded (quotes removed) as the executor sees them
        metadata.apply(state, step.instruction)
    return state


def _run(lines: str, config: ImageConfig | None = None) -> RunConfig:
    return _apply(lines, config).config.config


def test_labels_merge() -> None:
    base = ImageConfig(config=RunConfig(labels={"a": "1", "b": "2"}))
    assert _run('LABEL b=3 "c d"=e\n', base).labels == {"a": "1", "b": "3", "c d": "e"}


@pytest.mark.parametrize(
    ("line", "ports"),
    [
        ("EXPOSE 80", ("80/tcp",)),
        ("EXPOSE 80/tcp 53/udp", ("53/udp", "80/tcp")),
        ("EXPOSE 8000-8002", ("8000/tcp", "8001/tcp", "8002/tcp")),
        ("EXPOSE 80\nEXPOSE 80/tcp", ("80/tcp",)),
    ],
)
def test_expose(line: str, ports: tuple[str, ...]) -> None:
    assert _run(line + "\n").exposed_ports == ports


def test_volume_workdir_user_stopsignal_shell() -> None:
    run = _run(
        'VOLUME /data /logs\nVOLUME ["/data"]\nWORKDIR /app\nWORKDIR sub/../dir\n'
        'USER app:staff\nSTOPSIGNAL SIGKILL\nSHELL ["/bin/bash", "-c"]\n'
    )
    assert run.volumes == ("/data", "/logs")
    assert run.working_dir == "/app/dir"
    assert run.user == "app:staff"
    assert run.stop_signal == "SIGKILL"
    assert run.shell == ("/bin/bash", "-c")


def test_cmd_and_entrypoint_forms_follow_shell() -> None:
    run = _run('SHELL ["/bin/bash", "-xc"]\nCMD echo hi\nENTRYPOINT ["/init"]\n')
    assert run.cmd == ("/bin/bash", "-xc", "echo hi")  # CMD set in this stage survives
    assert run.entrypoint == ("/init",)
    assert _run("ENTRYPOINT top -b\n").entrypoint == ("/bin/sh", "-c", "top -b")


def test_entrypoint_clears_inherited_cmd() -> None:
    base = ImageConfig(config=RunConfig(cmd=("sh",)))
    assert _run('ENTRYPOINT ["/app"]\n', base).cmd == ()
    assert _run('ENTRYPOINT ["/app"]\nCMD ["x"]\n', base).cmd == ("x",)


def test_healthcheck_and_none() -> None:
    run = _run("HEALTHCHECK --interval=5s --retries=2 CMD curl -f http://x/\n")
    assert run.healthcheck == HealthConfig(
        test=("CMD-SHELL", "curl -f http://x/"), interval=5_000_000_000, retries=2
    )
    assert _run("HEALTHCHECK NONE\n").healthcheck == HealthConfig(test=("NONE",))


def test_maintainer_onbuild_and_arg() -> None:
    state = _apply("MAINTAINER me@example.com\nONBUILD RUN make\nONBUILD COPY . /src\nARG X=1\n")
    assert state.config.author == "me@example.com"
    assert state.config.config.on_build == ("RUN make", "COPY . /src")


def test_created_by_reads_like_docker() -> None:
    [node] = parse("FROM scratch\nENV A=1 \\\n    B=2\n").nodes[1:]
    text = metadata.created_by(parse_instruction(node))
    assert text.startswith("/bin/sh -c #(nop) ENV A=1 ") and text.endswith("B=2")
    assert "\n" not in text


def test_bad_port_names_the_line() -> None:
    state = metadata.ConfigState(ImageConfig())
    [node] = parse("FROM scratch\nEXPOSE 80-x\n").nodes[1:]
    try:
        instr = parse_instruction(node)
    except DockerfileError as e:  # the parser may already refuse it
        assert "Dockerfile:2" in str(e)
        return
    with pytest.raises(DockerfileError, match="Dockerfile:2"):
        metadata.apply(state, instr)
