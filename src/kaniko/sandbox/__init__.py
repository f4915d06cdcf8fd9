"""RUN execution: a process against a root filesystem, and nothing more of the host.

:func:`kaniko.sandbox.chroot.run` runs a :class:`~kaniko.sandbox.spec.RunSpec` against a
root directory: in a private mount namespace with ``/proc``, ``/sys`` and ``/dev`` where
the kernel permits, else as a plain chroot (:data:`~kaniko.sandbox.spec.Isolation`);
:mod:`.inplace` runs against the container's own ``/``. The process tree, its output and
its clean-up are :mod:`.process`, :mod:`.output` and :mod:`.scaffold`. User lookup is
:mod:`kaniko.fs.users`: COPY and WORKDIR need it without running anything.
"""
