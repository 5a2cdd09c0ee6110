"""DF003, network tools in the image that ships: the rule (``rule``), what a build's RUN
steps do with packages and programs (``steps``, ``packages``, ``run_script``), evidence
that a tool is used at run time (``judge``), which installs to remove (``plan``) and the
edits that remove them (``fix``)."""

from rules.tools.rule import NetworkTools

__all__ = ["NetworkTools"]
