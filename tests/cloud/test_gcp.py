"""Google application default credentials: when the metadata server is worth asking."""

from __future__ import annotations

import time

import pytest

from kaniko.cloud import gcp
from kaniko.errors import NoCredentialsError
from tests.lab.names import loopback_names


@pytest.fixture
def off_google(monkeypatch, tmp_path):
    """No ADC source and no sign of Google Cloud (a DMI name that is not Google's)."""
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GCE_METADATA_HOST", "GCE_METADATA_ROOT",
                 "NO_GCE_CHECK"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    product = tmp_path / "product_name"
    product.write_text("Standard PC (Q35 + ICH9, 2009)\n")
    monkeypatch.setattr(gcp, "_DMI_PRODUCT", str(product))
    return product


def test_off_google_cloud_the_metadata_server_is_not_probed(off_google) -> None:
    assert not gcp.metadata_server_likely()
    started = time.monotonic()
    with pytest.raises(NoCredentialsError) as info:
        gcp.access_token()
    assert time.monotonic() - started < 2  # google-auth's probe would take 3 x 3 s
    assert str(info.value) == (
        "no Google credentials found; tried: GOOGLE_APPLICATION_CREDENTIALS (unset), the "
        f"gcloud ADC file {gcp._adc_file()} (absent), the metadata server "
        "metadata.google.internal (absent: not on Google Cloud)"
    )


def test_signs_of_google_cloud(off_google, monkeypatch) -> None:
    off_google.write_text("Google Compute Engine\n")  # GCE, GKE nodes
    assert gcp.metadata_server_likely()
    off_google.write_text("Standard PC\n")
    with loopback_names(["metadata.google.internal"]):  # Cloud Run, GKE sandbox: DNS only
        assert gcp.metadata_server_likely()
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    assert gcp.metadata_server_likely()
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    assert not gcp.metadata_server_likely()
