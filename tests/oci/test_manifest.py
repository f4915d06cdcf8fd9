"""Manifests and indexes: reading, validation, round trips and platform selection."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kaniko.errors import ImageError
from kaniko.oci import mediatypes as mt
from kaniko.oci.digest import Digest, sha256_of
from kaniko.oci.manifest import Descriptor, Index, Manifest, parse_manifest
from kaniko.oci.platform import Platform

CONFIG = "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910"
LAYER1 = "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
LAYER2 = "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
AMD64 = "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51"
ARMV7 = "sha256:5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee"
ARMV6 = "sha256:50b8c3e55c3365d624e7e10ae6a783d525e02b16924d4dcff0611f3e2544efaf"
ARM64 = "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265"
ATT1 = "sha256:35143e7a5239313ee73b81f2f99b785aaed42d9572d1f797dc19fa14aa6b081f"
ATT2 = "sha256:dd86e2310bdf3ab45816029e264c4745a2a028961719031597877887a8f6f1df"
WIN = "sha256:823a3180dad3c9c3c4dea43ab2baf9f04bac9c3a7711745ff5f702551496d735"
SUBJECT = "sha256:a9491f4c1bf7b0cffbadcba2db8f028e4b3f2867cb59e1f3a0bc1968f3c51242"

# As Docker Hub serves a v2 schema 2 manifest (pretty-printed, 3-space indent).
DOCKER_V2S2 = f"""{{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {{
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1457,
      "digest": "{CONFIG}"
   }},
   "layers": [
      {{
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 2152262,
         "digest": "{LAYER1}"
      }},
      {{
         "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
         "size": 1014,
         "digest": "{LAYER2}",
         "urls": ["https://mcr.microsoft.com/v2/windows/blobs/{LAYER2}"]
      }}
   ]
}}""".encode()

# An OCI manifest as ggcr writes one: compact, ggcr field order, annotations sorted.
OCI_COMPACT = (
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
    f'"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":812,'
    f'"digest":"{CONFIG}"}},'
    f'"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","size":99,'
    f'"digest":"{LAYER1}","annotations":{{"a":"1 \\u0026 2","b":"x"}}}}],'
    '"annotations":{"org.opencontainers.image.created":"2024-05-01T10:00:00Z",'
    '"org.opencontainers.image.source":"https://example.com/app"},'
    f'"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,'
    f'"digest":"{SUBJECT}"}}}}'
).encode()


def _entry(digest: str, platform: dict[str, str] | None, **extra: object) -> dict[str, object]:
    entry: dict[str, object] = {"mediaType": mt.OCI_MANIFEST, "digest": digest, "size": 1234}
    if platform is not None:
        entry["platform"] = platform
    entry.update(extra)
    return entry


# A multi-platform OCI index with BuildKit attestation entries, as BuildKit pushes it.
ATTESTATION = {
    "vnd.docker.reference.digest": AMD64,
    "vnd.docker.reference.type": "attestation-manifest",
}
INDEX_DOC = {
    "schemaVersion": 2,
    "mediaType": mt.OCI_INDEX,
    "manifests": [
        _entry(AMD64, {"architecture": "amd64", "os": "linux"}),
        _entry(ARMV7, {"architecture": "arm", "os": "linux", "variant": "v7"}),
        _entry(ARMV6, {"architecture": "arm", "os": "linux", "variant": "v6"}),
        _entry(ARM64, {"architecture": "arm64", "os": "linux", "variant": "v8"}),
        _entry(ATT1, {"architecture": "unknown", "os": "unknown"}, annotations=ATTESTATION),
        _entry(ATT2, {"architecture": "unknown", "os": "unknown"}),
        _entry(WIN, {"architecture": "amd64", "os": "windows", "os.version": "10.0.20348.2322"}),
    ],
}
INDEX_BYTES = json.dumps(INDEX_DOC, indent=2).encode()


def test_docker_manifest_fields() -> None:
    manifest = Manifest.from_json(DOCKER_V2S2)
    assert manifest.media_type == mt.DOCKER_MANIFEST
    assert manifest.is_docker
    assert manifest.config == Descriptor(mt.DOCKER_CONFIG, Digest.parse(CONFIG), 1457)
    assert [layer.digest for layer in manifest.layers] == [
        Digest.parse(LAYER1),
        Digest.parse(LAYER2),
    ]
    assert manifest.layers[0].size == 2152262
    assert manifest.layers[1].urls == (f"https://mcr.microsoft.com/v2/windows/blobs/{LAYER2}",)
    assert not mt.is_distributable(manifest.layers[1].media_type)


def test_docker_manifest_round_trip_is_compact_in_the_same_order() -> None:
    manifest = Manifest.from_json(DOCKER_V2S2)
    out = manifest.to_json()
    assert out == json.dumps(json.loads(DOCKER_V2S2), separators=(",", ":")).encode()
    assert Manifest.from_json(out) == manifest


def test_oci_manifest_round_trips_byte_for_byte() -> None:
    manifest = Manifest.from_json(OCI_COMPACT)
    assert manifest.annotations["org.opencontainers.image.source"] == "https://example.com/app"
    assert manifest.layers[0].annotations == {"a": "1 & 2", "b": "x"}
    assert manifest.subject is not None and str(manifest.subject.digest) == SUBJECT
    assert mt.layer_compression(manifest.layers[0].media_type) == "zstd"
    assert manifest.to_json() == OCI_COMPACT


def test_written_manifest_is_ordered_like_ggcr() -> None:
    config_bytes = b'{"os":"linux"}'
    config = Descriptor.for_blob(config_bytes, mt.OCI_CONFIG)
    layer = Descriptor(
        mt.OCI_LAYER_GZIP, Digest.parse(LAYER1), 10, annotations={"z": "1", "a": "2"}
    )
    manifest = Manifest(mt.OCI_MANIFEST, config, (layer,))
    assert (
        manifest.to_json()
        == (
            '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
            f'"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":14,'
            f'"digest":"{sha256_of(config_bytes)}"}},'
            f'"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":10,'
            f'"digest":"{LAYER1}","annotations":{{"a":"2","z":"1"}}}}]}}'
        ).encode()
    )
    empty = Manifest(mt.DOCKER_MANIFEST, config)
    assert json.loads(empty.to_json())["layers"] == []


def test_unknown_fields_survive_a_round_trip() -> None:
    doc = json.loads(DOCKER_V2S2)
    doc["x-vendor"] = {"k": [1, 2]}
    doc["layers"][0]["x-extra"] = "kept"
    doc["config"]["artifactType"] = "application/example"
    manifest = Manifest.from_json(json.dumps(doc).encode())
    again = json.loads(manifest.to_json())
    assert again["x-vendor"] == {"k": [1, 2]}
    assert again["layers"][0]["x-extra"] == "kept"
    assert again["config"]["artifactType"] == "application/example"
    assert list(again) == ["schemaVersion", "mediaType", "config", "layers", "x-vendor"]


def test_media_type_from_header_or_structure() -> None:
    doc = json.loads(OCI_COMPACT)
    del doc["mediaType"]
    raw = json.dumps(doc).encode()
    guessed = Manifest.from_json(raw)
    assert guessed.media_type == mt.OCI_MANIFEST and not guessed.media_type_declared
    assert "mediaType" not in json.loads(guessed.to_json())
    assert Manifest.from_json(raw, content_type=mt.DOCKER_MANIFEST).media_type == mt.DOCKER_MANIFEST
    index_doc = dict(INDEX_DOC)
    del index_doc["mediaType"]
    assert isinstance(parse_manifest(json.dumps(index_doc).encode()), Index)


def test_index_fields_and_round_trip() -> None:
    index = Index.from_json(INDEX_BYTES, content_type=f"{mt.OCI_INDEX}; charset=utf-8")
    assert len(index.manifests) == 7
    windows = index.manifests[6]
    assert windows.platform == Platform("windows", "amd64", "")
    assert windows.platform_extra == {"os.version": "10.0.20348.2322"}
    out = json.loads(index.to_json())
    assert out["manifests"][6]["platform"] == {
        "architecture": "amd64",
        "os": "windows",
        "os.version": "10.0.20348.2322",
    }
    assert list(out["manifests"][0]) == ["mediaType", "size", "digest", "platform"]
    assert Index.from_json(index.to_json()) == index
    assert Index.from_json(index.to_json()).to_json() == index.to_json()


@pytest.mark.parametrize(
    ("want", "digest"),
    [
        ("linux/amd64", AMD64),
        ("linux/arm64", ARM64),
        ("linux/arm64/v8", ARM64),
        ("linux/arm/v7", ARMV7),
        ("linux/arm/v6", ARMV6),
        ("linux/arm", ARMV7),  # no variant asked: the first arm entry
        ("windows/amd64", WIN),
    ],
)
def test_select_platform(want: str, digest: str) -> None:
    index = Index.from_json(INDEX_BYTES)
    assert str(index.select(Platform.parse(want)).digest) == digest


def test_select_reports_available_platforms_without_attestations() -> None:
    index = Index.from_json(INDEX_BYTES)
    with pytest.raises(ImageError) as info:
        index.select(Platform.parse("linux/s390x"), what="busybox:1.36")
    assert str(info.value) == (
        "busybox:1.36: no image for platform linux/s390x (available: linux/amd64, "
        "linux/arm/v7, linux/arm/v6, linux/arm64/v8, windows/amd64)"
    )
    with pytest.raises(ImageError, match="no image for platform unknown/unknown"):
        index.select(Platform("unknown", "unknown", ""))


def test_select_prefers_exact_variant_and_defaults_missing_platform() -> None:
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST_LIST,
        "manifests": [
            _entry(ARMV7, {"architecture": "arm", "os": "linux", "variant": "v7"}),
            _entry(ARMV6, {"architecture": "arm", "os": "linux"}),
            _entry(AMD64, None),
        ],
    }
    index = Index.from_json(json.dumps(doc).encode())
    assert str(index.select(Platform("linux", "arm", "")).digest) == ARMV6
    assert str(index.select(Platform.parse("linux/amd64")).digest) == AMD64
    assert index.platforms()[2] == Platform("linux", "amd64", "")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"schemaVersion": 1, "name": "library/old", "tag": "1", "fsLayers": []}', None),
        (b'{"schemaVersion": 1, "signatures": []}', mt.DOCKER_SCHEMA1_SIGNED),
        (b"not even json", mt.DOCKER_SCHEMA1),
        (b'{"schemaVersion": 2, "mediaType": "' + mt.DOCKER_SCHEMA1.encode() + b'"}', None),
    ],
)
def test_schema1_is_rejected(body: bytes, content_type: str | None) -> None:
    with pytest.raises(ImageError, match=r"^schema 1 manifests are not supported: old:1 \("):
        parse_manifest(body, content_type=content_type, what="old:1")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schemaVersion=3), "unsupported schemaVersion 3"),
        (lambda d: d.update(schemaVersion=2.0), "unsupported schemaVersion 2.0"),
        (lambda d: d.pop("schemaVersion"), "unsupported schemaVersion None"),
        (lambda d: d.update(mediaType="application/json"), "unsupported manifest media type"),
        (lambda d: d.update(mediaType=5), "mediaType must be a string"),
        (lambda d: d.pop("config"), "missing config"),
        (lambda d: d.update(layers={}), "layers must be a list"),
        (lambda d: d["config"].update(size=-1), "config: size must be a non-negative integer"),
        (lambda d: d["config"].update(size="12"), "size must be a non-negative integer"),
        (lambda d: d["config"].update(size=True), "size must be a non-negative integer"),
        (lambda d: d["layers"][1].update(digest="sha256:abc"), "layers[1]: invalid digest"),
        (lambda d: d["layers"][0].pop("mediaType"), "layers[0]: missing mediaType"),
        (lambda d: d["layers"][0].update(mediaType=""), "mediaType is empty"),
        (lambda d: d["layers"][0].update(urls="x"), "urls must be a list of strings"),
        (lambda d: d["layers"][0].update(annotations={"a": 1}), "annotations must be a map"),
        (lambda d: d["layers"][0].update(platform=[]), "platform is not a JSON object"),
        (lambda d: d["layers"].append(7), "layers[2]: descriptor is not a JSON object"),
        (lambda d: d.update(subject="x"), "subject: descriptor is not a JSON object"),
    ],
)
def test_invalid_manifests(mutate: Callable[[Any], object], message: str) -> None:
    doc = json.loads(DOCKER_V2S2)
    mutate(doc)
    with pytest.raises(ImageError, match=r"^manifest") as info:
        parse_manifest(json.dumps(doc).encode())
    assert message in str(info.value)


def test_wrong_kind_and_bad_json() -> None:
    with pytest.raises(ImageError, match=r"expected an image manifest, got application/vnd\.oci"):
        Manifest.from_json(INDEX_BYTES)
    with pytest.raises(ImageError, match="expected an image index"):
        Index.from_json(DOCKER_V2S2)
    with pytest.raises(ImageError, match="manifests must be a list"):
        Index.from_json(b'{"schemaVersion":2,"mediaType":"' + mt.OCI_INDEX.encode() + b'"}')
    with pytest.raises(ImageError, match="is not valid JSON"):
        parse_manifest(DOCKER_V2S2[:-5])
    with pytest.raises(ImageError, match="is not a JSON object"):
        parse_manifest(b"[]")
