"""``s3://BUCKET/KEY``: an S3 (or S3-compatible) object, streamed and unpacked.

Credentials and region come from :mod:`kaniko.cloud.aws` (botocore's standard chain;
``AWS_REGION``). kaniko's ``S3_ENDPOINT`` points the client at an S3-compatible store and
``S3_FORCE_PATH_STYLE=true`` asks for path-style addressing (as in kaniko, only together
with ``S3_ENDPOINT``). The object's body is read in 1 MiB pieces straight into the tar
reader: nothing is written to disk but the unpacked context.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import botocore.exceptions

from kaniko.cloud import aws
from kaniko.context.archive import unpack
from kaniko.context.spec import Spec
from kaniko.errors import ContextError, CredentialsError

_MISSING = {"NoSuchKey": "no such object", "NoSuchBucket": "no such bucket", "404": "not found"}
_DENIED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "403",
}


def client() -> Any:  # a botocore S3 client (botocore has no types)
    """An S3 client as kaniko configures one (``S3_ENDPOINT``, ``S3_FORCE_PATH_STYLE``)."""
    endpoint = os.environ.get("S3_ENDPOINT") or None
    path_style = endpoint is not None and os.environ.get("S3_FORCE_PATH_STYLE", "").lower() == (
        "true"
    )
    return aws.client(
        "s3", endpoint_url=endpoint, s3={"addressing_style": "path" if path_style else "auto"}
    )


def _explain(error: botocore.exceptions.ClientError) -> str:
    info = error.response.get("Error", {})
    code = str(info.get("Code", ""))
    if code in _MISSING:
        return _MISSING[code]
    if code in _DENIED:
        return f"access denied ({code})"
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return f"{code or 'error'} (HTTP {status}): {info.get('Message', '')}".rstrip(": ")


def fetch_s3(spec: Spec, dest: Path, limit: int) -> None:
    """Stream ``spec``'s object into the tar reader, unpacking into ``dest``."""
    try:
        s3 = client()
    except CredentialsError as e:
        raise ContextError(f"{spec.display}: {e}") from None
    try:
        response = s3.get_object(Bucket=spec.bucket, Key=spec.key)
    except botocore.exceptions.ClientError as e:
        raise ContextError(f"{spec.display}: {_explain(e)}") from None
    except botocore.exceptions.BotoCoreError as e:
        raise ContextError(f"{spec.display}: {e}") from None
    body = response["Body"]
    try:
        unpack(body, dest, limit=limit, source=spec.display)
    except botocore.exceptions.BotoCoreError as e:
        raise ContextError(f"{spec.display}: reading the object: {e}") from None
    finally:
        body.close()
