"""Images from and to every place: registry, docker tarball, OCI layout, ``scratch``.

All of them speak :class:`kaniko.oci.image.Image`. :mod:`.remote` pulls lazily and
verified, :mod:`.push` pushes; :mod:`.tarball` writes ``docker load`` tarballs and
:mod:`.layout` writes and reads OCI layouts; :mod:`.mutate` derives new lazy images
(:mod:`.composed` holds their parts) and :mod:`.validate` checks one end to end.
"""
