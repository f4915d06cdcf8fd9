"""GitLab CI: the job's registry credentials from its predefined variables.

Every GitLab CI job gets ``CI_REGISTRY`` (the project registry's host, e.g.
``registry.gitlab.com`` or ``gitlab.example.com:5050``), ``CI_REGISTRY_USER``
(``gitlab-ci-token``) and ``CI_REGISTRY_PASSWORD`` (the job token, valid while the job
runs). As ``docker-credential-gitlabci`` in the Go kaniko, they are presented to that
registry and to no other. Here the port must match too (``:443`` being the default),
where the Go helper compares host names only.

Beyond the Go kaniko: the dependency proxy's variables (``CI_DEPENDENCY_PROXY_SERVER``,
``CI_DEPENDENCY_PROXY_USER``, ``CI_DEPENDENCY_PROXY_PASSWORD``), so that
``FROM ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/alpine`` pulls with no config.json.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from kaniko.errors import NoCredentialsError
from kaniko.registry.credential import Credential, same_registry
from kaniko.registry.helpers import Link

_SETS = (
    ("CI_REGISTRY", "CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD"),
    ("CI_DEPENDENCY_PROXY_SERVER", "CI_DEPENDENCY_PROXY_USER", "CI_DEPENDENCY_PROXY_PASSWORD"),
)


class GitLabHelper:
    """``gitlab-ci``: the registries a GitLab CI job's variables name."""

    name = "gitlab-ci"
    serves = "the registry CI_REGISTRY names (and CI_DEPENDENCY_PROXY_SERVER)"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _variables(self, host: str) -> tuple[str, str, str] | None:
        for names in _SETS:
            server = self._environ.get(names[0], "").strip()
            if server and same_registry(server, host):
                return names
        return None

    def owns(self, host: str) -> bool:
        return self._variables(host) is not None

    def get(self, host: str, link: Link | None) -> Credential:
        names = self._variables(host)
        if names is None:
            raise NoCredentialsError(f"{host} is not the registry of CI_REGISTRY")
        server, user_name, password_name = names
        user, password = self._environ.get(user_name, ""), self._environ.get(password_name, "")
        missing = [n for n, v in ((user_name, user), (password_name, password)) if not v]
        if missing:
            unset = " and ".join(missing) + (" are" if len(missing) > 1 else " is")
            raise NoCredentialsError(f"{server} names {host}, but {unset} unset")
        return Credential(user, password, source=f"the gitlab-ci helper (in-process, {user_name})")
