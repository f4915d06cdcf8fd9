"""Talking to registries: the OCI distribution spec over ``httpx``.

:mod:`.transport` picks scheme, TLS and credentials per registry (:mod:`.keychain` reads
docker ``config.json`` and credential helpers, :mod:`.auth` does Basic and Bearer tokens);
:mod:`.client` has the verbs (manifests, blobs, uploads, mounts) with retries on
temporary errors only, and :mod:`.errors` turns error bodies into one clear line.
"""
