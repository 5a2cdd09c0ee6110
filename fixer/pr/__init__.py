"""``tighten pr``: the command (``command``), what it commits (``remediation``), its text
(``body``), git (``git``, the only module that runs git), the forge API (``forge``, with
``origin`` deciding where the token may go) and the branch and pull request (``publish``).

The package sits at the top with the CLI: it drives a ``fix`` session and nothing below it
imports from here (but ``fixer.secrets.gitignore``, which asks ``git`` whether a file is
ignored: see ``git``). Nothing is imported here, so that importing ``fixer.pr.git`` stays
cheap.
"""
