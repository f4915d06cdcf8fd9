"""Root filesystems on disk: extraction, inventories, diffs, layer tars, file metadata.

:mod:`.unpack` applies image layers (whiteouts, safe paths) through :mod:`.entries`;
:mod:`.inventory` and :mod:`.diff` find what a step changed; :mod:`.tarwrite` writes a
layer tar of it. :mod:`.fileattrs` is the one place that sets and reads owners, modes,
times and xattrs, :mod:`.safepath` resolves paths as a chroot would, :mod:`.users` finds
users and groups in an image's own ``/etc`` (COPY ``--chown``, WORKDIR, RUN's user), and
:mod:`.atomic` writes output files whole or not at all.
"""
