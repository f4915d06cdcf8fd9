"""Supply-chain outputs: SBOMs and SLSA provenance, attached to the image as BuildKit does.

``scan/`` finds the packages installed in a root filesystem (dpkg, apk, rpm databases,
Python distributions, npm packages, Go build info, Java archives); :mod:`.spdx` and
:mod:`.cyclonedx` render them as SPDX 2.3 or CycloneDX 1.6 JSON; :mod:`.provenance`
writes a SLSA provenance v1 predicate from what the build recorded (:mod:`.materials`);
:mod:`.intoto` wraps each in an in-toto statement and :mod:`.manifest` packs the
statements of one image into an attestation manifest, the layout BuildKit pushes
(docs.docker.com "attestation storage"). The executor drives it from
:mod:`kaniko.executor.attest`; nothing here touches a registry.

Why the two documents are written by hand: ``spdx-tools`` would bring 28 MB of
dependencies (beartype, rdflib, PyYAML …) into an executor image that has 29 MB of
budget left, and type-checks every object at run time; ``cyclonedx-python-lib`` (7.6 MB)
would cover one format of two and leave determinism to us anyway. Both are fixed JSON
shapes; the hard parts use libraries made for them: ``packageurl-python`` (purls) and
``license-expression`` (SPDX license ids and expressions). The tests validate every
document with the SPDX 2.3 schema, ``spdx-tools`` and ``cyclonedx-python-lib``.
"""
