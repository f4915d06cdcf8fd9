"""Build-context sources: where ``--context`` points, fetched into a local directory.

Start at :func:`kaniko.context.fetch.prepare_context`, the one call the executor makes.
:mod:`~kaniko.context.spec` parses the source; one module per kind fetches it
(:mod:`~kaniko.context.tarball`, :mod:`~kaniko.context.http`, :mod:`~kaniko.context.s3`,
:mod:`~kaniko.context.gcs`, :mod:`~kaniko.context.azure`, :mod:`~kaniko.context.git`),
all unpacking through :mod:`~kaniko.context.archive`; :mod:`~kaniko.context.local` finds
and reads the Dockerfile. Credentials come from :mod:`kaniko.cloud`.
"""
