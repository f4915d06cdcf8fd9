"""The layer cache, the base-image cache and the warmer.

- :mod:`.keys`: the one function that turns a step's inputs into its cache key, used for
  looking an entry up and for storing it (a key read is always the key written);
- :mod:`.layercache`: entries (an image per key holding that step's one layer, tagged
  with the key, as the Go kaniko stores them), their checks (TTL, digests) and the
  background writer; :mod:`.registrystore` keeps them in a registry repository,
  :mod:`.layoutstore` in ``oci:PATH`` layouts, one per key, as the Go kaniko does;
- :mod:`.view`: what an image's layers hold, path by path, read from tar headers only,
  so that a step the cache cannot serve is computed without extracting the image;
- :mod:`.basecache`: ``--cache-dir``, base images as docker tarballs named by digest
  (the Go warmer's format), and :mod:`.warmer`, which fills it.

The executor's side (which steps are looked up, what a hit leaves to do) is
:mod:`kaniko.executor.cached`.
"""
