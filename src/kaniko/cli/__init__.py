"""The command line: argv and ``KANIKO_*`` variables → options → run → exit status.

:func:`kaniko.cli.main.main` is the entry point of the ``kaniko`` and ``executor``
scripts. The library never imports this package.
"""
