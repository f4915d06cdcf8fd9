"""The lab itself works: each registry variant answers as a real registry does.

These tests talk raw HTTP (httpx) so that a later failure of our registry client can be
told apart from a broken lab.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl

import httpx
import pytest

from tests.lab.registry import Registry


def _trust(registry: Registry) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(registry.ca_cert))


def _token(registry: Registry, user: str | None, scope: str) -> str:
    assert registry.token_service is not None
    auth = (user, registry.users[user]) if user else None
    r = httpx.get(
        registry.token_service.realm,
        params={"service": registry.token_service.service, "scope": scope},
        auth=auth,
    )
    r.raise_for_status()
    return r.json()["token"]


def _push_blob(client: httpx.Client, registry: Registry, repo: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r = client.post(f"{registry.url}/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202, r.text
    location = httpx.URL(registry.url).join(r.headers["Location"])
    location = location.copy_add_param("digest", digest)  # keep the upload's _state
    r = client.put(location, content=data)
    assert r.status_code == 201, r.text
    return digest


def test_plain_registry_round_trip(registry_plain: Registry) -> None:
    with httpx.Client() as client:
        assert client.get(f"{registry_plain.url}/v2/").status_code == 200
        digest = _push_blob(client, registry_plain, "lab/plain", b"hello lab")
        r = client.get(f"{registry_plain.url}/v2/lab/plain/blobs/{digest}")
        assert r.content == b"hello lab"


def test_basic_registry_needs_credentials_and_trusts_ca(registry_basic: Registry) -> None:
    with httpx.Client(verify=_trust(registry_basic)) as client:
        r = client.get(f"{registry_basic.url}/v2/")
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Basic ")
        r = client.get(f"{registry_basic.url}/v2/", auth=("alice", "wrong"))
        assert r.status_code == 401
    with httpx.Client(verify=_trust(registry_basic), auth=("alice", "alice-secret-pw")) as c:
        assert c.get(f"{registry_basic.url}/v2/").status_code == 200
        digest = _push_blob(c, registry_basic, "lab/basic", b"basic")
        assert c.head(f"{registry_basic.url}/v2/lab/basic/blobs/{digest}").status_code == 200
    with pytest.raises(httpx.ConnectError):  # the test CA is not trusted by default
        httpx.get(f"{registry_basic.url}/v2/")


def test_token_registry_challenge_and_scopes(registry_token: Registry) -> None:
    ts = registry_token.token_service
    assert ts is not None
    with httpx.Client(verify=_trust(registry_token)) as client:
        r = client.get(f"{registry_token.url}/v2/")
        assert r.status_code == 401
        challenge = r.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer ")
        assert re.search(r'realm="([^"]+)"', challenge).group(1) == ts.realm
        assert f'service="{ts.service}"' in challenge

        # alice may push
        token = _token(registry_token, "alice", "repository:lab/tok:pull,push")
        client.headers["Authorization"] = f"Bearer {token}"
        digest = _push_blob(client, registry_token, "lab/tok", b"token blob")
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        config_digest = _push_blob(client, registry_token, "lab/tok", config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest,
                    "size": len(b"token blob"),
                }
            ],
        }
        r = client.put(
            f"{registry_token.url}/v2/lab/tok/manifests/v1",
            content=json.dumps(manifest).encode(),
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert r.status_code == 201, r.text

        # bob's token carries pull only: reading works, pushing is refused
        token = _token(registry_token, "bob", "repository:lab/tok:pull,push")
        assert ts.issued[-1]["access"] == [
            {"type": "repository", "name": "lab/tok", "actions": ["pull"]}
        ]
        client.headers["Authorization"] = f"Bearer {token}"
        r = client.get(
            f"{registry_token.url}/v2/lab/tok/manifests/v1",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert r.status_code == 200, r.text
        assert json.loads(r.content)["layers"][0]["digest"] == digest
        r = client.post(f"{registry_token.url}/v2/lab/tok/blobs/uploads/")
        assert r.status_code == 401
        assert "insufficient_scope" in r.headers.get("WWW-Authenticate", "")

    # wrong password: the token service refuses
    r = httpx.get(ts.realm, params={"scope": "repository:lab/tok:pull"}, auth=("bob", "nope"))
    assert r.status_code == 401


def test_cloud_identity_services_speak_their_protocols(cloud_registries) -> None:
    """The GCE metadata server wants ``Metadata-Flavor: Google``; Entra wants the lab's
    federated token; the ACR exchange wants an Entra token it issued; ECR wants Basic."""
    from tests.lab.clouds import LAB_CLIENT_ID, LAB_TENANT, MANAGEMENT_SCOPE

    lab = cloud_registries
    token_path = "/computeMetadata/v1/instance/service-accounts/default/token"
    assert httpx.get(lab.metadata.url + token_path).status_code == 403
    flavor = {"Metadata-Flavor": "Google"}
    answer = httpx.get(lab.metadata.url + token_path, headers=flavor)
    assert answer.headers["Metadata-Flavor"] == "Google"
    assert lab.metadata.valid(answer.json()["access_token"])
    spoofed = httpx.get(lab.metadata.url + token_path, headers={**flavor, "X-Forwarded-For": "x"})
    assert spoofed.status_code == 403

    form = {"grant_type": "client_credentials", "client_id": LAB_CLIENT_ID,
            "scope": MANAGEMENT_SCOPE,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "someone-else"}  # fmt: skip
    url = f"{lab.entra.url}/{LAB_TENANT}/oauth2/v2.0/token"
    assert httpx.post(url, data=form).status_code == 401
    form["client_assertion"] = lab.federated_token.read_text().strip()
    entra = httpx.post(url, data=form).json()["access_token"]

    trust = ssl.create_default_context(cafile=str(lab.ca.cert_path))
    exchange = f"https://127.0.0.1:{lab.hosts['acr'].rsplit(':', 1)[1]}/oauth2/exchange"
    ask = {"grant_type": "access_token", "service": lab.hosts["acr"], "tenant": LAB_TENANT}
    assert (
        httpx.post(exchange, data={**ask, "access_token": "forged"}, verify=trust).status_code
        == 401
    )
    refresh = httpx.post(exchange, data={**ask, "access_token": entra}, verify=trust).json()
    assert refresh["refresh_token"] in lab.acr.refresh_tokens

    ecr = lab.registries["ecr"]
    challenge = httpx.get(f"{ecr.url}/v2/", verify=_trust(ecr)).headers["WWW-Authenticate"]
    assert challenge.startswith("Basic")
