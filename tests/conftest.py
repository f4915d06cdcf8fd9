"""Session-wide fixtures: the test lab (registries, a CA, a token service)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.lab.pki import TestCA
from tests.lab.registry import Registry, start_registry
from tests.lab.tokens import TokenService, User

LAB_USERS = {"alice": "alice-secret-pw", "bob": "bob-secret-pw"}
CACHE_USERS = {"carol": "carol-secret-pw", "dave": "dave-secret-pw"}
"""Token-registry users of the layer-cache tests: carol may push (and pull) ``cache/*`` and
nothing else, the cache's own robot account; dave may only pull there (a reader, as pull
request builds are). The registry wants pull with every push, so no account can write
without reading."""

# No test may reach a cloud's metadata service (a link-local address, not loopback): the
# credential chains of kaniko.cloud stop before it or are pointed at a closed local port.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("NO_GCE_CHECK", "true")
os.environ.setdefault("GCE_METADATA_HOST", "127.0.0.1:9")
os.environ.setdefault("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Secrets a test registers (a fake token "t1", a password "y") are masked in every
    later message of the same worker: forget them after each test."""
    yield
    from kaniko.redact import clear_secrets

    clear_secrets()


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def test_ca(lab_dir) -> TestCA:
    return TestCA(lab_dir / "ca")


@pytest.fixture(scope="session")
def registry_plain(lab_dir) -> Iterator[Registry]:
    """Plain HTTP, no auth."""
    registry = start_registry(lab_dir / "plain")
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_basic(lab_dir, test_ca) -> Iterator[Registry]:
    """HTTPS with the test CA and htpasswd Basic auth (alice and bob may push anywhere)."""
    registry = start_registry(lab_dir / "basic", tls_ca=test_ca, htpasswd_users=LAB_USERS)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_token(lab_dir, test_ca) -> Iterator[Registry]:
    """HTTPS with Bearer tokens: alice pushes and pulls everything; bob only pulls;
    anonymous users pull `public/*`; carol and dave are the cache's (``CACHE_USERS``)."""
    service = TokenService(
        lab_dir,
        users={
            "alice": User(LAB_USERS["alice"], {"*": ("pull", "push")}),
            "bob": User(LAB_USERS["bob"], {"*": ("pull",)}),
            "carol": User(CACHE_USERS["carol"], {"cache/*": ("pull", "push")}),
            "dave": User(CACHE_USERS["dave"], {"cache/*": ("pull",)}),
        },
        anonymous={"public/*": ("pull",)},
    )
    registry = start_registry(
        lab_dir / "token",
        tls_ca=test_ca,
        token_service=service,
        users={**LAB_USERS, **CACHE_USERS},
    )
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def busybox_layer(lab_dir) -> bytes:
    """The gzip layer of a busybox root filesystem (busybox-static, applet symlinks)."""
    from tests.lab.images import busybox_rootfs, layer_from_dir

    return layer_from_dir(busybox_rootfs(lab_dir / "busybox-rootfs"))


@pytest.fixture(scope="session")
def base_images(registry_plain, busybox_layer) -> dict[str, str]:
    """Base images pushed to the plain registry; name -> reference.

    ``busybox``: the host's architecture. ``multiarch``: an OCI index of amd64 and arm64
    images plus an unknown/unknown attestation entry, each with a distinct marker file.
    """
    import httpx

    from kaniko.oci.platform import Platform
    from tests.lab.images import make_image, make_index, push_raw

    host = Platform.host()
    busybox = make_image([busybox_layer], arch=host.architecture, variant=host.variant)
    arm64 = make_image([busybox_layer], arch="arm64", oci=True, config={"Labels": {"a": "arm64"}})
    amd64 = make_image([busybox_layer], arch="amd64", oci=True, config={"Labels": {"a": "amd64"}})
    attestation = make_image([busybox_layer], arch="unknown", oci=True, config={})
    index = make_index(
        [
            (amd64, {"architecture": "amd64", "os": "linux"}),
            (arm64, {"architecture": "arm64", "os": "linux", "variant": "v8"}),
            (attestation, {"architecture": "unknown", "os": "unknown"}),
        ]
    )
    with httpx.Client(timeout=30) as client:
        push_raw(client, registry_plain.url, "library/busybox", "latest", busybox)
        push_raw(
            client,
            registry_plain.url,
            "lab/multiarch",
            "latest",
            index,
            children=[amd64, arm64, attestation],
        )
    return {
        "busybox": f"{registry_plain.host}/library/busybox:latest",
        "multiarch": f"{registry_plain.host}/lab/multiarch:latest",
    }


@pytest.fixture(scope="session")
def debian_image(registry_plain) -> str:
    """``library/debian:bookworm`` on the plain registry: debootstrap minbase from this
    machine's Debian mirror. The rootfs layer is cached on disk (tests/lab/debian.py), so
    only the first run on a machine pays for debootstrap; every xdist worker pushes it to
    its own registry."""
    import os

    import httpx

    from kaniko.oci.platform import Platform
    from tests.lab.debian import debian_rootfs_layer
    from tests.lab.images import PATH_ENV, make_image, push_raw

    if os.geteuid() != 0:
        pytest.skip("debootstrap needs root")
    layer = debian_rootfs_layer().read_bytes()
    host = Platform.host()
    image = make_image(
        [layer],
        arch=host.architecture,
        variant=host.variant,
        config={"Env": [PATH_ENV], "Cmd": ["bash"]},
    )
    with httpx.Client(timeout=120) as client:
        push_raw(client, registry_plain.url, "library/debian", "bookworm", image)
    return f"{registry_plain.host}/library/debian:bookworm"


@pytest.fixture(scope="session", autouse=True)
def _oracle_storage() -> Iterator[None]:
    """Remove the buildah oracle's per-process storage (tests/lab/oracle.py) at the end of
    the session, if a test used it."""
    yield
    import sys

    oracle = sys.modules.get("tests.lab.oracle")
    if oracle is not None:
        oracle.close_default()


@pytest.fixture(scope="session")
def registry_mtls(lab_dir, test_ca) -> Iterator[Registry]:
    """HTTPS with the test CA that also requires a client certificate of that CA."""
    registry = start_registry(lab_dir / "mtls", tls_ca=test_ca, require_client_cert=True)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def executor_build(registry_plain, debian_image, tmp_path_factory):
    """``deploy/Dockerfile`` built once by kaniko with ``--reproducible`` (its builder stage
    FROM the lab's Debian) and pushed to the plain registry (see tests/lab/executor.py)."""
    from tests.lab.executor import build_executor_image

    return build_executor_image(registry_plain, debian_image, tmp_path_factory)


@pytest.fixture(scope="session")
def executor_image(executor_build) -> str:
    """The reference of the executor image (``executor_build``) in the plain registry."""
    return executor_build.ref


@pytest.fixture(scope="session")
def cloud_registries(lab_dir, test_ca):
    """Lab registries playing ECR, Google Artifact Registry, ACR and GitLab's, each with
    the cloud's identity service (tests/lab/cloudregistries.py)."""
    from tests.lab.cloudregistries import start_cloud_registries

    lab = start_cloud_registries(lab_dir / "clouds", test_ca)
    yield lab
    lab.stop()
