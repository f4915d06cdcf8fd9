"""Dockerfiles: syntax, instructions and word expansion, as BuildKit reads them.

:func:`kaniko.dockerfile.parser.parse` turns text into a syntax tree (:mod:`.ast`),
:mod:`.instructions` turns its nodes into typed instructions (:mod:`.commands`; flags in
:mod:`.flags` and :mod:`.instruction_flags`, here-documents in :mod:`.heredoc`) and
:mod:`.shell` expands words. :mod:`.dockerignore` and :mod:`.patterns` match context paths.
Nothing here does I/O beyond reading ``.dockerignore``; :mod:`kaniko.plan` gives it meaning.
"""
