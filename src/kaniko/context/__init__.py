"""Build contexts: where COPY and ADD read from.

:mod:`kaniko.context.local` resolves a local context directory and the Dockerfile inside
or beside it. ``.dockerignore`` is applied by :mod:`kaniko.dockerfile.dockerignore`; remote
contexts (git, buckets, tarballs) are refused until they are built.
"""
