"""Package manager commands in shell scripts: which packages a command installs or removes.

Covers ``apt-get``/``apt``, ``apk``, ``yum``/``dnf``/``microdnf``, ``zypper`` and the
low-level ``dpkg``/``rpm`` removals, behind ``sudo``/``env`` prefixes and ``VAR=value``
assignments, with options anywhere (skipping the arguments of options that take one) and
version pins (``curl=7.88.1-10``, ``curl~=8``, ``curl>=8``, ``curl/bookworm``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fixer.documents.shell import Command, Token

INSTALL, REMOVE = "install", "remove"
#: ``apt-mark auto``/``manual``: what a later ``apt-get purge --auto-remove`` will remove.
MARK_AUTO, MARK_MANUAL = "mark-auto", "mark-manual"

#: manager -> (install subcommands, remove subcommands)
_SUBCOMMANDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "apt-get": (frozenset({"install"}), frozenset({"remove", "purge", "autoremove"})),
    "apt": (frozenset({"install"}), frozenset({"remove", "purge", "autoremove"})),
    "apk": (frozenset({"add"}), frozenset({"del"})),
    "yum": (frozenset({"install"}), frozenset({"remove", "erase", "autoremove"})),
    "dnf": (frozenset({"install"}), frozenset({"remove", "erase", "autoremove"})),
    "microdnf": (frozenset({"install"}), frozenset({"remove"})),
    "zypper": (frozenset({"install", "in"}), frozenset({"remove", "rm"})),
}
#: Options whose value is the next word (when not written ``--opt=value``).
_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "apt-get": frozenset({"-o", "-c", "-t", "-a", "--option", "--config-file"})
    | frozenset({"--target-release", "--default-release", "--host-architecture"}),
    "apk": frozenset({"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch"})
    | frozenset({"--keys-dir", "--cache-dir", "--repositories-file"}),
    "yum": frozenset({"-c", "--config", "-x", "--exclude", "--enablerepo", "--disablerepo"})
    | frozenset({"--repo", "--repoid", "--setopt", "--installroot", "--releasever", "-d", "-e"})
    | frozenset({"--disableplugin", "--enableplugin", "--forcearch", "--downloaddir"}),
    "zypper": frozenset({"-t", "--type", "-r", "--repo", "--from", "-R", "--root", "-D"})
    | frozenset({"--reposd-dir", "-C", "--cache-dir", "-p", "--plus-repo", "--config"}),
}
_VALUE_OPTIONS["apt"] = _VALUE_OPTIONS["apt-get"]
_VALUE_OPTIONS["dnf"] = _VALUE_OPTIONS["microdnf"] = _VALUE_OPTIONS["yum"]
#: Prefix programs, and their options that take a value.
_PREFIXES = {
    "sudo": frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir"}),
    "xargs": frozenset({"-I", "-n", "-L", "-P", "-s", "-d", "-a", "-E"}),
}
_APT_MARK = {"auto": MARK_AUTO, "markauto": MARK_AUTO, "manual": MARK_MANUAL}
_APT_MARK |= {"unmarkauto": MARK_MANUAL}
#: Where a version pin or a release/arch qualifier starts in a package word.
_PIN = re.compile(r"[=<>~@/:]")


@dataclass(frozen=True)
class Package:
    """One package argument: its word token and its bare name (pin removed, lower case);
    the name is empty for an expansion (``$PACKAGES``) or a local file (``./x.deb``)."""

    token: Token
    name: str


@dataclass(frozen=True)
class PackageCommand:
    command: Command
    manager: str  # the program name: apt-get, apt, apk, yum, dnf, microdnf, zypper, dpkg, rpm
    action: str  # INSTALL, REMOVE, MARK_AUTO or MARK_MANUAL
    packages: tuple[Package, ...]
    subcommand: str = ""
    virtual: str | None = None  # apk add --virtual NAME
    sudo: bool = False
    autoremove: bool = False  # also removes packages marked automatic (apt)

    @property
    def label(self) -> str:
        """``apt-get install``, ``apk add``, ... for messages."""
        return f"{self.manager} {self.subcommand}".strip()


def package_command(command: Command) -> PackageCommand | None:
    """The install or removal ``command`` performs, or None for any other command."""
    words = list(command.words)
    sudo = False
    manager = _program(words[0]) if words else ""  # asked of every command: once a word
    while manager in _PREFIXES:
        sudo = sudo or manager == "sudo"
        words = _after_prefix(words, _PREFIXES[manager])
        manager = _program(words[0]) if words else ""
    if not words:
        return None
    if manager in _SUBCOMMANDS:
        return _manager_command(command, manager, words[1:], sudo)
    if manager in ("dpkg", "rpm"):
        return _low_level_removal(command, manager, words[1:], sudo)
    if manager == "apt-mark" and len(words) > 1 and words[1].value in _APT_MARK:
        marked = tuple(
            _package(t, manager) for t in words[2:] if not (t.value or "").startswith("-")
        )
        return PackageCommand(
            command, manager, _APT_MARK[words[1].value or ""], marked, words[1].text
        )
    return None


def _program(word: Token) -> str:
    return (word.value or "").rsplit("/", 1)[-1]


def _after_prefix(words: list[Token], value_options: frozenset[str]) -> list[Token]:
    """``sudo -E -u root apt-get`` / ``env -i A=b apt-get`` -> ``apt-get ...``."""
    i = 1
    while i < len(words):
        value = words[i].value or ""
        if value == "--":
            return words[i + 1 :]
        if value in value_options:
            i += 2
        elif value.startswith("-") or re.match(r"[A-Za-z_][A-Za-z0-9_]*=", value):
            i += 1
        else:
            break
    return words[i:]


def _manager_command(
    command: Command, manager: str, args: list[Token], sudo: bool
) -> PackageCommand | None:
    installs, removes = _SUBCOMMANDS[manager]
    value_options = _VALUE_OPTIONS[manager]
    subcommand, virtual, autoremove = "", None, False
    packages: list[Package] = []
    i = 0
    while i < len(args):
        value = args[i].value
        takes_value = value in value_options
        if value in ("--virtual", "-t") and manager == "apk" and i + 1 < len(args):
            virtual = args[i + 1].value
        autoremove = autoremove or value in ("--auto-remove", "--autoremove")
        if value is None:
            if subcommand:  # an expansion ($PACKAGES): a package, but not one we can name
                packages.append(Package(args[i], ""))
        elif value == "--":
            packages.extend(_package(t, manager) for t in args[i + 1 :] if subcommand)
            break
        elif value.startswith("-"):
            i += 1 + int(takes_value)
            continue
        elif not subcommand:
            subcommand = value
            if subcommand not in installs | removes:
                return None
        else:
            packages.append(_package(args[i], manager))
        i += 1
    if not subcommand:
        return None
    action = INSTALL if subcommand in installs else REMOVE
    autoremove = action == REMOVE and (autoremove or subcommand == "autoremove")
    return PackageCommand(
        command, manager, action, tuple(packages), subcommand, virtual, sudo, autoremove
    )


def _low_level_removal(
    command: Command, manager: str, args: list[Token], sudo: bool
) -> PackageCommand | None:
    """``dpkg -r/-P/--purge/--remove NAME`` and ``rpm -e/--erase NAME``."""
    flag = _DPKG_REMOVE if manager == "dpkg" else _RPM_ERASE
    if not any(flag.fullmatch(a.value or "") for a in args):
        return None
    packages = tuple(_package(a, manager) for a in args if not (a.value or "-").startswith("-"))
    return PackageCommand(command, manager, REMOVE, packages, "remove", None, sudo)


_DPKG_REMOVE = re.compile(r"-[a-zA-Z]*[rP][a-zA-Z]*|--purge|--remove")
_RPM_ERASE = re.compile(r"-[a-zA-Z]*e[a-zA-Z]*|--erase")
#: ``name-version-release`` as yum, dnf and zypper accept it.
_RPM_VERSION = re.compile(r"-\d[\w.+~^]*(?:-[\w.+~^]+)?$")


def _package(token: Token, manager: str) -> Package:
    value = token.value
    if (
        value is None
        or value.startswith(("./", "../", "/"))
        or value.endswith((".deb", ".rpm", ".apk"))
    ):
        return Package(token, "")  # an expansion or a local file: never one of ours
    name = _PIN.split(value, 1)[0] if manager != "dpkg" else value.split(":", 1)[0]
    if manager in ("yum", "dnf", "microdnf", "zypper", "rpm"):
        name = _RPM_VERSION.sub("", name)
    return Package(token, name.lower())


#: Package caches: removing them only undoes what a fetch in the same RUN did.
_CACHES = {
    "/var/lib/apt/lists": "apt",
    "/var/cache/apt": "",
    "/var/cache/apk": "apk",
    "/var/cache/yum": "",
    "/var/cache/dnf": "",
    "/var/cache/zypp": "",
}
_FETCH = {("apt-get", "update"): "apt", ("apt", "update"): "apt", ("apk", "update"): "apk"}
_CLEAN = frozenset({"clean", "autoclean", "distclean", "dist-clean"})


@dataclass(frozen=True)
class Chore:
    """A package-cache chore: ``fetch`` (``apt-get update``), ``clean`` (``rm -rf
    /var/lib/apt/lists/*``, ``apt-get clean``) or ``noop`` (``set -eux``, ``true``);
    ``caches`` says whose index it fetches or removes (``apt``, ``apk``)."""

    kind: str
    caches: frozenset[str] = frozenset()


def chore(command: Command) -> Chore | None:
    """The chore ``command`` performs, or None for real work."""
    values = [w.value for w in command.words]
    if not values or any(v is None for v in values) or command.assignments:
        return None
    program, args = str(values[0]).rsplit("/", 1)[-1], [str(v) for v in values[1:]]
    if program in ("set", "true", ":"):
        return Chore("noop")
    plain = [a for a in args if not a.startswith("-")]
    if not plain:
        return None
    if program == "rm":
        kinds = [_cache_kind(a) for a in plain]
        return None if None in kinds else Chore("clean", frozenset(k for k in kinds if k))
    if (program, plain[0]) in _FETCH:
        return Chore("fetch", frozenset({_FETCH[program, plain[0]]}))
    if program in _SUBCOMMANDS and (plain[0] in _CLEAN or plain[:2] == ["cache", "clean"]):
        return Chore("clean")
    return None


def _cache_kind(path: str) -> str | None:
    for prefix, kind in _CACHES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return kind
    return None
