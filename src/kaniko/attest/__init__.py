"""Supply-chain outputs: SBOMs and SLSA provenance, attached to the image as BuildKit does.

``scan/`` finds the packages installed in a root filesystem (dpkg, apk, rpm databases,
Python distributions, npm packages, Go build info, Java archives); :mod:`.spdx` and
:mod:`.cyclonedx` render them as SPDX 2.3 or CycloneDX 1.6 JSON; :mod:`.provenance`
writes a SLSA provenance v1 predicate from what the build recorded (:mod:`.materials`);
:mod:`.intoto` wraps each in an in-toto statement and :mod:`.manifest` packs the
statements of one image into an attestation manifest, the layout BuildKit pushes
(docs.docker.com "attestation storage"). The executor drives it from
:mod:`kaniko.executor.attest`; nothing here touches a registry.
"""
