"""What a cache key sees of a RUN's mounts: every option, never a secret's value."""

from __future__ import annotations

from kaniko.dockerfile.parser import parse
from kaniko.plan import make_plan
from kaniko.plan.mountkeys import step_mount_keys

DOCKERFILE = """\
FROM scratch AS deps
FROM scratch
ARG SUB=src
RUN --mount=type=bind,source=$SUB,target=/src \\
    --mount=type=bind,from=deps,source=/lib,target=/lib,rw \\
    --mount=type=cache,target=/root/.cache,sharing=locked \\
    --mount=type=cache,from=deps,source=/seed,target=/c2,id=c2 \\
    --mount=type=secret,id=token,env=TOKEN,required \\
    --mount=type=ssh \\
    --mount=type=tmpfs,target=/t,size=1m \\
    true
COPY a b
"""


def test_each_mount_has_a_canonical_text_and_what_to_hash() -> None:
    plan = make_plan(parse(DOCKERFILE), build_args={})
    run, copy = plan.stages[-1].steps[1:]
    keys = step_mount_keys(run)
    assert [k.text for k in keys] == [
        "type=bind,target=/src,from=context,source=/src,readonly=True",
        "type=bind,target=/lib,from=stage:0,source=/lib,readonly=False",
        "type=cache,target=/root/.cache,readonly=False,id=/root/.cache,sharing=locked,"
        "uid=,gid=,mode=",
        "type=cache,target=/c2,from=stage:0,source=/seed,readonly=False,id=c2,sharing=shared,"
        "uid=,gid=,mode=",
        "type=secret,target=,uid=,gid=,mode=,id=token,required=True,env=TOKEN",
        "type=ssh,target=,uid=,gid=,mode=,id=default,required=False",
        "type=tmpfs,target=/t,size=1048576",
    ]
    assert [k.content for k in keys] == [
        ("context", "/src"), ("stage:0", "/lib"), None, ("stage:0", "/seed"), None, None, None,
    ]  # fmt: skip
    assert step_mount_keys(copy) == ()
