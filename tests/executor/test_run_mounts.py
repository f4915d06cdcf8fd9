"""From a RUN's ``--mount`` flags to what the sandbox mounts (executor side)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.dockerfile.parser import parse
from kaniko.errors import BuildError, DockerfileError
from kaniko.executor.cached import mount_inputs
from kaniko.executor.cachemounts import CacheStore
from kaniko.executor.filesystem import CopySources
from kaniko.executor.mounts import RunMounts, StepMounts, check_run_steps
from kaniko.executor.sourcedigest import context_path_digest
from kaniko.executor.sshforward import NONE, SshAgents
from kaniko.executor.sshkeys import KeyAgent
from kaniko.oci.platform import Platform
from kaniko.plan import make_plan
from kaniko.plan.model import Step
from kaniko.secrets import EMPTY, SecretStore

PLATFORM = Platform.host()


class _Trees:
    """Finished stages' and images' roots: directories made by the test."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def tree(self, index: object, platform: object = None) -> Path:
        path = self.root / str(index).replace("/", "_")
        path.mkdir(parents=True, exist_ok=True)
        return path


def _steps(text: str) -> list[Step]:
    plan = make_plan(parse("FROM scratch AS base\nFROM scratch\nWORKDIR /w\n" + text),
                     build_args={})  # fmt: skip
    return [s for s in plan.stages[-1].steps if s.keyword == "RUN"]


def _sources(tmp_path: Path, ignore: str = "") -> CopySources:
    ctx = tmp_path / "ctx"
    (ctx / "src" / "secret-dir").mkdir(parents=True, exist_ok=True)
    (ctx / "src" / "a.txt").write_text("a")
    (ctx / "src" / "secret-dir" / "key").write_text("k")
    (ctx / "top.txt").write_text("t")
    matcher = PatternMatcher(ignore.split()) if ignore else None
    trees = _Trees(tmp_path / "trees")
    return CopySources(ctx, matcher, trees, trees)  # type: ignore[arg-type]


def _resolve(mounts: RunMounts, step: Step, sources: CopySources) -> StepMounts:
    with mounts.step(step, step.instruction, "/w", sources, PLATFORM) as got:  # type: ignore[arg-type]
        return got


def test_bind_targets_sources_and_dockerignore(tmp_path: Path) -> None:
    (step,) = _steps(
        "RUN --mount=type=bind,source=src,target=rel "
        "--mount=target=/all,rw --mount=from=base,source=/,target=/b true\n"
    )
    sources = _sources(tmp_path)
    got = _resolve(RunMounts(), step, sources)
    rel, everything, base = got.mounts
    assert (rel.kind, rel.target, rel.source, rel.readonly) == (
        "bind", "/w/rel", tmp_path / "ctx" / "src", True,
    )  # fmt: skip
    assert (everything.source, everything.readonly, everything.discard) == (
        tmp_path / "ctx", False, True,
    )  # fmt: skip
    assert base.source == tmp_path / "trees" / "0"
    assert got.env == ()
    # .dockerignore: a filtered view, made for the step's life
    ignoring = _sources(tmp_path, "src/secret-dir")
    with RunMounts().step(step, step.instruction, "/w", ignoring, PLATFORM) as held:  # type: ignore[arg-type]
        view = held.mounts[0].source
        assert view is not None and view != tmp_path / "ctx" / "src"
        assert sorted(os.listdir(view)) == ["a.txt"]
    assert not view.exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("RUN --mount=source=nope,target=/x true", "source nope not found in the build context"),
        ("RUN --mount=source=src/secret-dir,target=/x true", "source src/secret-dir not found"),
        ("RUN --mount=type=tmpfs,target=/ true", 'invalid mount target "/"'),
        ("RUN --mount=type=tmpfs,target=. true", ""),  # WORKDIR /w: fine
    ],
)
def test_bind_errors(tmp_path: Path, line: str, message: str) -> None:
    (step,) = _steps(line + "\n")
    sources = _sources(tmp_path, "src/secret-dir")
    if not message:
        assert _resolve(RunMounts(), step, sources).mounts[0].target == "/w"
        return
    with pytest.raises(BuildError, match=message):
        _resolve(RunMounts(), step, sources)


def test_secrets_files_variables_and_optional_ones(tmp_path: Path) -> None:
    (step,) = _steps(
        "RUN --mount=type=secret,id=tok --mount=type=secret,id=tok,env=TOKEN,target=t "
        "--mount=type=secret,id=tok,env=ONLY --mount=type=secret,id=absent true\n"
    )
    store = SecretStore({"tok": b"v4lue"})
    got = _resolve(RunMounts(secrets=store), step, _sources(tmp_path))
    assert [(m.target, m.data, m.mode) for m in got.mounts] == [
        ("/run/secrets/tok", b"v4lue", 0o400), ("/w/t", b"v4lue", 0o400),
    ]  # fmt: skip
    assert got.env == (("TOKEN", "v4lue"), ("ONLY", "v4lue"))
    assert "v4lue" not in repr(got.mounts)
    (required,) = _steps("RUN --mount=type=secret,id=absent,required true\n")
    with pytest.raises(BuildError, match="secret absent was not given"):
        _resolve(RunMounts(secrets=store), required, _sources(tmp_path))


def test_ssh_sockets_and_ssh_auth_sock(tmp_path: Path) -> None:
    key = tmp_path / "id"
    os.system(f"ssh-keygen -q -t ed25519 -N '' -f {key}")
    agents = SshAgents({"default": KeyAgent.load((str(key),), "--ssh")})
    (step,) = _steps(
        "RUN --mount=type=ssh --mount=type=ssh,id=other --mount=type=ssh,target=/s,mode=0644 true\n"
    )
    with RunMounts(agents=agents).step(
        step, step.instruction, "/w", _sources(tmp_path), PLATFORM
    ) as got:  # type: ignore[arg-type]
        first, third = got.mounts  # "other" has no agent and is not required: skipped
        assert first.target == "/run/buildkit/ssh_agent.0" and third.target == "/s"
        assert first.source is not None and first.source.is_socket()
        assert oct(os.stat(third.source).st_mode & 0o777) == "0o644"  # type: ignore[arg-type]
        assert got.env == (("SSH_AUTH_SOCK", "/run/buildkit/ssh_agent.0"),)
    assert not first.source.exists()
    (own,) = _steps("ENV SSH_AUTH_SOCK=/mine\nRUN --mount=type=ssh true\n")
    assert _resolve(RunMounts(agents=agents), own, _sources(tmp_path)).env == ()


def test_cache_mounts_take_their_store_directory(tmp_path: Path) -> None:
    (step,) = _steps(
        "RUN --mount=type=cache,target=/root/.cache --mount=type=cache,target=c2,id=shared,ro "
        "--mount=type=cache,target=/seeded,from=base,source=/seed true\n"
    )
    sources = _sources(tmp_path)
    seed = sources.stages.tree(0) / "seed"  # type: ignore[attr-defined]
    seed.mkdir()
    (seed / "s").write_text("seeded")
    mounts = RunMounts(caches=CacheStore(tmp_path / "store"))
    got = _resolve(mounts, step, sources)
    plain, shared, seeded = got.mounts
    assert plain.kind == "cache" and plain.source is not None
    assert plain.source.is_relative_to(tmp_path / "store") and not plain.readonly
    assert shared.readonly and shared.target == "/w/c2"
    assert seeded.source is not None and (seeded.source / "s").read_text() == "seeded"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("RUN --security=insecure true", "RUN --security=insecure is not supported"),
        ("RUN --device=nvidia.com/gpu=all true", "RUN --device=nvidia.com/gpu=all is not"),
        ("RUN --mount=type=secret,id=x,required true", "secret x was not given"),
        ("RUN --mount=type=ssh,required=true true", "no ssh agent default was given"),
    ],
)
def test_refused_before_any_work(line: str, message: str) -> None:
    plan = make_plan(parse(f"FROM scratch\nRUN true\n{line}\n"), build_args={})
    with pytest.raises(DockerfileError, match=message) as info:
        check_run_steps(plan, EMPTY, NONE, "Dockerfile")
    assert str(info.value).startswith("Dockerfile:3: ")


def test_fine_steps_pass_the_check() -> None:
    plan = make_plan(
        parse("FROM scratch\nRUN --security=sandbox --network=none "
              "--mount=type=secret,id=x --mount=type=ssh true\n"),
        build_args={},
    )  # fmt: skip
    check_run_steps(plan, EMPTY, NONE, "Dockerfile")
    required = make_plan(parse("FROM scratch\nRUN --mount=type=secret,id=x,required true\n"),
                         build_args={})  # fmt: skip
    check_run_steps(required, SecretStore({"x": b""}), NONE, "Dockerfile")


def test_cache_key_inputs_follow_bind_sources_and_never_a_secret(tmp_path: Path) -> None:
    """The layer cache's hook: a context bind counts by the content COPY of it would see
    (.dockerignore applied), a stage bind by the stage's identity; a secret's and a cache's
    content never count."""
    (step,) = _steps(
        "RUN --mount=type=bind,source=src,target=/s --mount=type=bind,from=base,target=/b "
        "--mount=type=secret,id=t --mount=type=cache,target=/c true\n"
    )
    context = _sources(tmp_path, ignore="src/secret-dir").source(None, PLATFORM)

    def inputs() -> list[list[str]]:
        found = mount_inputs(
            step, lambda ref: f"origin {ref}", lambda path: context_path_digest(context, path)
        )
        return json.loads(found)

    first = inputs()
    assert [len(m) for m in first] == [2, 2, 1, 1] and first[1][1] == "origin 0"
    assert first[2] == [
        "type=secret,target=/run/secrets/t,uid=,gid=,mode=,id=t,required=False,env="
    ]
    (tmp_path / "ctx" / "top.txt").write_text("not below src")
    (tmp_path / "ctx" / "src" / "secret-dir" / "key").write_text("ignored")
    assert inputs() == first
    (tmp_path / "ctx" / "src" / "a.txt").write_text("changed")
    assert inputs()[0] != first[0] and inputs()[1:] == first[1:]
