"""The conformance suite: every case of ``tests/e2e/conformance/`` built by kaniko and buildah.

For each case (see :mod:`tests.e2e.cases` for the folder layout and ``case.json``):

1. the context is prepared in a temp dir (entries git cannot hold, placeholders);
2. kaniko builds it in-process and pushes to the lab registry; buildah 1.28 (the oracle,
   ``bud --isolation chroot --storage-driver vfs --format docker``) builds the same
   context and pushes with ``--format v2s2``;
3. both images are flattened by the lab's own reader (no kaniko code) and must match:
   ``compare_trees`` (type, mode, ids, content, link targets, xattrs, hardlink groups;
   not mtimes) after buildah's RUN mount points are stripped, and ``compare_configs``
   over Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal,
   Healthcheck, Shell, OnBuild;
4. paths and fields where buildah 1.28 is wrong are checked against the values the case
   states (``override``, with its evidence), cases buildah cannot build at all state the
   whole result (``expect``); ``allow`` names nondeterministic files only;
5. cases with ``run`` start our image with crun (via skopeo and umoci) and check what it
   prints: at least one per group (:func:`test_suite_covers_every_group`).

kaniko builds with its default ``--jobs`` (``KANIKO_TEST_JOBS=1`` runs the suite with
one stage after another); every multi-stage case is also built both ways with
``--reproducible``, and the two digests must be the same
(:func:`test_stages_at_once_give_the_same_image`).

The base tree used to strip buildah's placeholders is the Debian image's for cases that
use it, busybox's otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from kaniko.dockerfile.instructions import split_stages
from kaniko.dockerfile.parser import parse
from tests.e2e.builders import kaniko_build
from tests.e2e.cases import Case, all_cases, prepare_context, secret_files
from tests.e2e.expect import check_config, check_exact, check_tree
from tests.lab.crun import run_image
from tests.lab.flatten import (
    CONFIG_FIELDS,
    Tree,
    compare_configs,
    compare_trees,
    flatten,
    image_config,
)
from tests.lab.oracle import buildah_build, strip_run_placeholders
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e

CASES = all_cases()
PARAMS = [
    pytest.param(
        c, id=c.name, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=c.xfail)
    )
    if c.xfail
    else pytest.param(c, id=c.name)
    for c in CASES
]
MULTI_STAGE = [
    pytest.param(c, id=c.name)
    for c in CASES
    if not c.xfail and len(split_stages(parse((c.folder / "Dockerfile").read_text()))[1]) > 1
]
LABELS = ("kaniko", "buildah")
Config = Mapping[str, Any]


def _compare_with_buildah(
    case: Case,
    ctx: Path,
    registry: Registry,
    tree: Tree,
    config: Config,
    base: Tree,
    secrets: Mapping[str, Path],
) -> list[str]:
    theirs = buildah_build(
        ctx,
        ctx / "Dockerfile",
        registry=registry,
        repo_tag=f"conformance/{case.name}:buildah",
        build_args=[f"{k}={v}" for k, v in case.build_args.items()],
        target=case.target or None,
        secrets=secrets,
    )
    their_tree = strip_run_placeholders(flatten(theirs), base)
    their_config = image_config(theirs).get("config") or {}
    stated_tree = case.override.get("tree", {})
    stated_config = case.override.get("config", {})
    allow = {**case.allow, **{path: "stated by the case" for path in stated_tree}}
    problems = compare_trees(tree, their_tree, allow=allow, labels=LABELS)
    fields = [f for f in CONFIG_FIELDS if f not in stated_config]
    problems += compare_configs(config, their_config, fields, labels=LABELS)
    problems += check_tree(tree, stated_tree)
    problems += check_config(config, stated_config)
    return problems


def _check_expectations(case: Case, tree: Tree, config: Config, base: Tree) -> list[str]:
    expect = case.expect
    stated = {**expect.get("tree", {}), **dict.fromkeys(expect.get("absent", []))}
    problems = check_tree(tree, stated)
    problems += check_config(config, expect.get("config", {}))
    if expect.get("exact"):
        problems += check_exact(tree, base, stated)
    return problems


def _secrets_absent(case: Case, ref: str, tree: Tree) -> list[str]:
    """A secret's value is in no file, link or name of the image, nor in its config or
    history."""
    problems = []
    whole = json.dumps(image_config(ref))
    for secret_id, value in case.secrets.items():
        needle = value.encode()
        for path, entry in tree.items():
            if needle in (entry.data or b"") or value in path or value in (entry.linkname or ""):
                problems.append(f"secret {secret_id} found in {path}")
        if value in whole:
            problems.append(f"secret {secret_id} found in the config or history")
    return problems


def _check_run(case: Case, ref: str) -> list[str]:
    assert case.run is not None
    done = run_image(ref, case.run.get("argv"))
    problems = []
    if done.returncode != case.run.get("exit", 0):
        problems.append(f"crun: exit {done.returncode}, stderr: {done.stderr.strip()[-500:]}")
    if "stdout" in case.run and done.stdout != case.run["stdout"]:
        problems.append(f"crun: stdout {done.stdout!r} != expected {case.run['stdout']!r}")
    return problems


def _values(
    case: Case,
    request: pytest.FixtureRequest,
    base_images: dict[str, str],
    registry: Registry,
    http_cases: str,
) -> dict[str, str]:
    """What the case's ``{{placeholders}}`` stand for (``debian`` for slow cases only)."""
    values = {
        "busybox": base_images["busybox"],
        "registry": registry.host,
        "http": f"{http_cases}/{case.name}/served",
    }
    if case.slow:
        values["debian"] = request.getfixturevalue("debian_image")
    return values


@pytest.mark.parametrize("case", PARAMS)
def test_case(
    case: Case,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    base_images: dict[str, str],
    registry_plain: Registry,
    http_cases: str,
    base_tree: Callable[[str], Tree],
) -> None:
    values = _values(case, request, base_images, registry_plain, http_cases)
    base_ref = values.get("debian", base_images["busybox"])
    ctx = prepare_context(case, tmp_path / "ctx", values)
    secrets = secret_files(case, tmp_path / "secrets")
    ours = f"{registry_plain.host}/conformance/{case.name}:kaniko"
    kaniko_dir = tmp_path / "kaniko"
    kaniko_build(
        ctx, ours, kaniko_dir=kaniko_dir, build_args=case.build_args, target=case.target,
        secrets=secrets,
    )  # fmt: skip
    tree = flatten(ours)
    config = image_config(ours).get("config") or {}
    base = base_tree(base_ref)
    problems: list[str] = _secrets_absent(case, ours, tree)
    if case.oracle:
        problems += _compare_with_buildah(case, ctx, registry_plain, tree, config, base, secrets)
    problems += _check_expectations(case, tree, config, base)
    if case.run is not None:
        problems += _check_run(case, ours)
    assert not problems, "\n".join(problems)
    assert list((kaniko_dir / "builds").iterdir()) == []  # the workspace is gone


def test_suite_covers_every_group() -> None:
    """At least 60 cases; each group runs an image with crun at least once; every case
    folder has its Dockerfile and only known keys (``load`` checks them)."""
    assert len(CASES) >= 60
    groups = {c.group for c in CASES}
    running = {c.group for c in CASES if c.run is not None}
    assert groups - running == set()
    for case in CASES:
        assert (case.folder / "Dockerfile").is_file(), case.name
        if not case.oracle:
            assert case.expect, case.name


@pytest.mark.parametrize("case", MULTI_STAGE)
def test_stages_at_once_give_the_same_image(
    case: Case,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    base_images: dict[str, str],
    registry_plain: Registry,
    http_cases: str,
) -> None:
    """``--jobs 1`` and the default build the same image, byte for byte (--reproducible)."""
    values = _values(case, request, base_images, registry_plain, http_cases)
    ctx = prepare_context(case, tmp_path / "ctx", values)
    digests = []
    for jobs in (1, 0):
        ref = f"{registry_plain.host}/jobs/{case.name}:jobs{jobs}"
        kaniko_dir = tmp_path / f"kaniko-{jobs}"
        built = kaniko_build(
            ctx, ref, kaniko_dir=kaniko_dir, build_args=case.build_args, target=case.target,
            jobs=jobs, reproducible=True,
        )  # fmt: skip
        digests.append(built.digest)
    assert digests[0] == digests[1]
