"""Cloud registry credential helpers, in-process: ECR, Google, ACR and GitLab CI.

The Go kaniko links four helpers into its keychain and ships three as executables
(``docker-credential-gcr``, ``-ecr-login``, ``-acr-env``). Here each is a small class
that serves the registry hosts its cloud owns and turns the cloud's own credential
chain (:mod:`kaniko.cloud`) into a registry :class:`~kaniko.registry.credential.Credential`:

=========  ==================================================  ===========================
helper     hosts                                               credential
=========  ==================================================  ===========================
gcr        ``gcr.io``, ``*.gcr.io``, ``*.pkg.dev``,            ``oauth2accesstoken`` and an
           ``*.google.com``                                    ADC access token (1 h)
ecr-login  ``ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com``     ``AWS`` and the decoded
           (and ``.com.cn``, ``.eu``, ``on.aws``, the ISO      ``GetAuthorizationToken``
           partitions), ``public.ecr.aws``                     password (12 h)
acr-env    ``*.azurecr.io``, ``.cn``, ``.de``, ``.us``         an ACR refresh token from
                                                               ``/oauth2/exchange`` (~3 h)
gitlab-ci  the host ``CI_REGISTRY`` (and                       ``CI_REGISTRY_USER`` and
           ``CI_DEPENDENCY_PROXY_SERVER``) names               ``CI_REGISTRY_PASSWORD``
=========  ==================================================  ===========================

:data:`ALIASES` maps the names users put in ``config.json`` (``ecr-login``, ``gcr``,
``gcloud``, ``acr-env``, ``acr``, ``gitlabci``) to these, so such a config works with no
executable. A helper raises :class:`~kaniko.errors.NoCredentialsError` when its cloud's
chain finds nothing (the keychain then goes on, and ends anonymous) and
:class:`~kaniko.errors.CredentialsError` when what it found was refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from kaniko.registry.credential import Credential


@dataclass(frozen=True)
class Link:
    """How a helper may reach the registry itself, with the registry's own TLS settings,
    deadlines and cancellation (ACR's token exchange is served by the registry)."""

    base_url: str  # "https://name.azurecr.io"
    http: httpx.Client


class Helper(Protocol):
    """An in-process credential helper for the registries of one cloud."""

    name: str
    serves: str  # the hosts it owns, for messages

    def owns(self, host: str) -> bool: ...

    def get(self, host: str, link: Link | None) -> Credential: ...


def cloud_helpers(environ: Mapping[str, str]) -> tuple[Helper, ...]:
    """The helpers the keychain asks after the docker config, in the Go kaniko's order."""
    from kaniko.registry.helpers.acr import AcrHelper
    from kaniko.registry.helpers.ecr import EcrHelper
    from kaniko.registry.helpers.gitlab import GitLabHelper
    from kaniko.registry.helpers.google import GoogleHelper

    return (GoogleHelper(), EcrHelper(), AcrHelper(environ), GitLabHelper(environ))


# config.json helper name -> the in-process helper's name
ALIASES = {
    "gcr": "gcr",
    "gcloud": "gcr",
    "ecr-login": "ecr-login",
    "acr-env": "acr-env",
    "acr": "acr-env",
    "gitlabci": "gitlab-ci",
}


def by_config_name(helpers: tuple[Helper, ...]) -> dict[str, Helper]:
    """``config.json`` helper names resolved in-process, to the helper of ``helpers``."""
    named = {helper.name: helper for helper in helpers}
    return {alias: named[name] for alias, name in ALIASES.items() if name in named}
