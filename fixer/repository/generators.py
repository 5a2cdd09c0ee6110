"""Manifests the repository's own scripts write with a generator (``helm template``).

Longhorn's ``scripts/generate-longhorn-yaml.sh`` writes ``deploy/longhorn.yaml`` with
``helm template chart/ >> "$DEPLOY_YAML"``, and its workflow runs the script: an edit of
the output is gone at the next run (the change belongs in the chart). Such a manifest is
generated though no ``DO NOT EDIT`` line says so. A line of a shell script or Makefile
that runs a generator (``helm template``, ``jsonnet``, ``ytt``; ``kustomize build`` into a
versioned file) and sends its output to a file names the file literally or through a
variable; a variable's values are read from its assignments and ``for`` lists in the same
file (one level of indirection: ``for F in ${FILES[@]}``). A folder of outputs counts too
(``jsonnet -m manifests``).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

#: The generator, also when a Makefile or script names it through a variable
#: (``$(KUSTOMIZE) build``, ``${JSONNET} -J vendor -m manifests``).
_TOOL = r"(?:\$\{|\$\()?"
#: Generators whose sources tighten cannot fix (a Helm chart's templates, jsonnet, ytt),
#: and Kustomize. A ``kustomize build`` bundle of plain manifests is edited with its
#: sources, the same edit each (Reloader's ``deployments/kubernetes/reloader.yaml``), so it
#: still renders the same: only its versioned outputs count, one file per release that
#: nothing renders again (cloudnative-pg's ``releases/cnpg-${release_version}.yaml``), and
#: a build with ``--enable-helm``, whose charts are rendered in (Flyte's devbox bundle).
_GENERATOR = re.compile(
    rf"(?i)(?<![\w-]){_TOOL}(helm[\}})]?[\"']?\s+template|kustomize[\}})]?[\"']?\s+build|"
    rf"(?:kubectl|oc)[\}})]?[\"']?\s+kustomize|jsonnet|ytt)(?![\w-])"
)
#: Where a command line sends its output: ``> F``, ``>> F``, ``| tee [-a] F``, ``-o F``;
#: or a folder of files: jsonnet's ``-m DIR``, helm's ``--output-dir DIR``.
_OUTPUT = re.compile(
    r"(?:>>?|\btee\s+(?:-a\s+)?|\s(-o|--output|--output-file|-m|--multi|--output-dir)"
    r"(?:=|\s+))[ \t]*(\"[^\"\n]*\"|'[^'\n]*'|[^\s;&|)<>]+)"
)
_FOLDER_OPTIONS = ("-m", "--multi", "--output-dir")
_VARIABLE = re.compile(r"^\$(?:\{(\w+)(?:\[[@*]\])?\}|\((\w+)\)|(\w+))$")
_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Output:
    """A file a generator writes: ``pattern`` relative to the repository root or to the
    script's folder (variables left in it are ``*``), and what writes it."""

    pattern: str
    line: int
    generator: str
    #: A ``kustomize build`` bundle of the repository's sources, edited with them (above):
    #: not generated, but a rendering whose copies must stay alike (``rendered``).
    in_step: bool = False


def outputs(text: str) -> list[Output]:
    """Every file ``text`` (a shell script or Makefile) writes with a generator, and the
    folders it deletes and makes again beside one (``regenerated``)."""
    generates = _GENERATOR.search(text) is not None
    downloads = "rm " in text and any(tool in text for tool in _DOWNLOADERS)
    if not generates and not downloads:
        return []
    unescaped = _logical_lines(text.replace("$$", "$"))  # a recipe's ``$$`` is ``$``
    found = redownloaded(unescaped) if downloads else []
    if not generates:
        return found
    lines = _logical_lines(text)
    found += regenerated(unescaped) + verified(lines)
    for number, line in lines:
        generator = _GENERATOR.search(line)
        if generator is None:
            continue
        name = " ".join(re.sub(r"[{}()$\"']", "", generator.group(1)).lower().split())
        for match in _OUTPUT.finditer(line, generator.end()):
            folder = match.group(1) in _FOLDER_OPTIONS
            for word in _values(match.group(2).strip("\"'"), lines):
                pattern = _pattern(word.rstrip("/") + "/*.yaml" if folder else word)
                helm = "--enable-helm" in line  # charts rendered in: no source to edit
                if pattern is None:
                    continue
                # a bundle kept in step with its sources (above)
                in_step = "kustomize" in name and "*" not in pattern and not helm
                found.append(Output(pattern, number, name, in_step))
    return found


#: ``rm -rf`` (any order of the flags); the words it deletes follow, up to the command's end.
_REMOVE = re.compile(r"(?<![\w-])rm\s+(?:-[rRf]*[rR][rRf]*\s+|-[rRf]+\s+-[rRf]+\s+)+")
_COMMAND_END = re.compile(r"&&|\|\||;|\|")
#: What fills a folder again: a generator, a folder made, a file written into it.
_REFILL = re.compile(r"(?<![\w-])(?:mkdir|cp|mv|csplit)(?![\w-])|>")


def _scope(lines: list[tuple[int, str]], index: int) -> tuple[int, int]:
    """The lines that run with line ``index``: its Makefile recipe (the tab-indented lines
    around it), or the whole script."""
    if not lines[index][1].startswith("\t"):
        return 0, len(lines)
    first = index
    while first > 0 and (lines[first - 1][1].startswith("\t") or not lines[first - 1][1].strip()):
        first -= 1
    last = index + 1
    while last < len(lines) and (lines[last][1].startswith("\t") or not lines[last][1].strip()):
        last += 1
    return first, last


def regenerated(lines: list[tuple[int, str]]) -> list[Output]:
    """Folders a Makefile recipe or script deletes whole and fills again beside a generator
    it runs (Eclipse Che's ``gen-deployment``: ``rm -rf $(DEPLOYMENT_DIR)``, then
    ``kustomize build config/$${PLATFORM} > $${PLATFORM_DIR}/combined.yaml``, split into
    ``objects/``; aws-ebs-csi-driver's ``hack/update-kustomize.sh`` moves ``helm template``
    output into ``deploy/kubernetes/base``): every manifest below is the recipe's output,
    undone by its next run. A folder only copied from another (secrets-store-csi-driver
    promotes ``manifest_staging/deploy`` to ``deploy`` at a release) is a copy, edited with
    its source."""
    found: list[Output] = []
    for index, (number, line) in enumerate(lines):
        remove = _REMOVE.search(line) if "rm " in line else None
        if remove is None:
            continue
        first, last = _scope(lines, index)
        after = " ".join(text for _, text in lines[index + 1 : last])
        if not _REFILL.search(line[remove.end() :] + " " + after):
            continue
        if not any(_GENERATOR.search(text) for _, text in lines[first:last]):
            continue  # a copy of other files (a release's snapshot), edited with them
        for word in _COMMAND_END.split(line[remove.end() :], 1)[0].split():
            folder = _folder(_expanded(word.strip("\"'"), lines))
            if folder:
                found.append(Output(folder + "/*", number, "deleted and regenerated"))
    return found


#: ``diff [-r] TMP/x path``: a check that ``path`` equals what was just generated into a
#: temporary folder (``$(diff)`` or ``${DIFF}`` as well as ``diff``).
_VERIFY = re.compile(
    r"(?:(?<![\w$-])diff|\$\((?i:diff)\)|\$\{(?i:diff)\})((?:\s+-[\w-]+)*)\s+"
    r"(['\"]?\S*(?i:tmp|temp)\S*?['\"]?)\s+(['\"]?[\w./-]+['\"]?)\s*$"
)


#: A step that makes files: a generator, or a macro or script named for generating.
_GENERATES = re.compile(rf"{_GENERATOR.pattern}|(?i:generat\w*|render\w*|concat\w*)", re.IGNORECASE)
_ARGS = re.compile(r"[\s,]+")


def _token(word: str) -> str:
    """An argument as a path: quotes gone, no trailing ``/``, nor the ``)`` that closes a
    ``$(call ...)`` around it."""
    word = word.replace("'", "").replace('"', "")
    while word.endswith(")") and word.count(")") > word.count("("):
        word = word[:-1]
    return word.rstrip("/")


def verified(lines: list[tuple[int, str]]) -> list[Output]:
    """Paths a recipe or script compares with a copy it has just generated into a
    temporary folder (Scylla's ``make verify-deploy``: ``$(diff) -r '$(tmp_dir)'/operator
    deploy/operator`` after rendering the chart there): generated, and checked in CI, so
    an edit fails the check. Only in a file that runs a generator (``outputs``)."""
    found: list[Output] = []
    for index, (number, line) in enumerate(lines):
        if "diff" not in line.lower():
            continue
        m = _VERIFY.search(line.strip())
        if m is None:
            continue
        temporary = _token(m.group(2))
        first, _ = _scope(lines, index)
        path = _relative(m.group(3).strip("\"'").rstrip("/"))
        if not path or path.startswith(("/", "*")) or "*" in path:
            continue
        steps = [(text, {_token(t) for t in _ARGS.split(text)}) for _, text in lines[first:index]]
        # A part of the copy made again below the temporary folder (Scylla's examples:
        # ``build-local-csi-driver-manifests.sh "$(tmp_dir)/common/.../local-csi-driver"``).
        for text, tokens in steps:
            if _GENERATES.search(text) is None and "build" not in text:
                continue
            for token in tokens:
                if token.startswith(temporary + "/") and "$" not in token[len(temporary) :]:
                    sub = token[len(temporary) + 1 :]
                    part = f"{path}/{sub}" if sub.endswith(_SUFFIXES) else f"{path}/{sub}/*"
                    found.append(Output(part, number, "compared with a fresh generation"))
        if not any(_GENERATES.search(text) and temporary in tokens for text, tokens in steps):
            continue  # the folder is compared, not made there (versions set in a copy)
        recursive = "-r" in m.group(1).split() or "--recursive" in m.group(1)
        pattern = path + "/*" if recursive or not path.endswith(_SUFFIXES) else path
        found.append(Output(pattern, number, "compared with a fresh generation"))
    return found


#: Commands that fetch another project's files.
_DOWNLOADERS = ("curl ", "wget ", "git clone")
_DOWNLOAD = re.compile(r"(?<![\w-])(?:curl|wget|git\s+clone)(?![\w-])")


def redownloaded(lines: list[tuple[int, str]]) -> list[Output]:
    """Folders a script deletes whole and fills again from a download (CDI's
    ``hack/update-kubevirtci.sh``: ``rm -rf ${SCRIPT_ROOT}/cluster-up``, then ``curl -L
    .../kubevirtci.tar.gz | tar xz kubevirtci-${tag}/cluster-up``): another project's
    files, vendored at a version; an edit is undone by the next update."""
    found: list[Output] = []
    for index, (number, line) in enumerate(lines):
        remove = _REMOVE.search(line) if "rm " in line else None
        if remove is None:
            continue
        _, last = _scope(lines, index)
        later = [text for _, text in lines[index + 1 : last] if _DOWNLOAD.search(text)]
        if not later:
            continue
        for word in _COMMAND_END.split(line[remove.end() :], 1)[0].split():
            folder = _folder(_expanded(word.strip("\"'"), lines))
            name = folder.rstrip("/*").rsplit("/", 1)[-1] if folder else ""
            if folder and name and "*" not in name and any(name in text for text in later):
                found.append(Output(folder + "/*", number, "deleted and downloaded again"))
    return found


def _expanded(word: str, lines: list[tuple[int, str]], depth: int = 0) -> str:
    """``word`` with a leading variable replaced by the path it is assigned (two levels:
    ``${HELMCHARTS_TEMPLATES}`` is ``${HELM_DIR}/templates``, which is
    ``$(PROJECT_DIR)/helmcharts/$(CHANNEL)/templates``)."""
    m = re.match(r"\$(?:\{(\w+)\}|\((\w+)\)|(\w+))", word)
    if m is None or depth > 2:
        return word
    name = m.group(1) or m.group(2) or m.group(3)
    assign = re.compile(rf"(?:^|[;\s])(?:export\s+|local\s+)?{name}\s*[:?]?=\s*([^\s;#]+)")
    values = {hit.group(1).strip("\"'") for _, line in lines for hit in assign.finditer(line)}
    if len(values) != 1:
        return word
    value = values.pop()
    if "$(shell" in value or "`" in value or value.count("(") != value.count(")"):
        return word  # a command's output (``"$(cd "$(dirname $0)/.." && pwd)"``): unknown
    return _expanded(value + word[m.end() :], lines, depth + 1)


def _folder(word: str) -> str | None:
    """The folder pattern a deleted word names (``_relative``); None for a file, an
    absolute path or a folder that could be any."""
    word = word.rstrip("/")
    if not word or word.endswith(_SUFFIXES) or "*" in word or "://" in word:
        return None
    word = _relative(word)
    if not word or word.startswith(("/", "~", "*")) or word in (".", ".."):
        return None
    return word


def matches(output: Output, relative: str, *, ending: bool = False) -> bool:
    """Whether ``relative`` (a path from the root or from the script's folder, ``/``
    separated) is the file ``output`` writes. With ``ending``, a pattern with a folder
    may match the end of the path: the script may name the file from a root of its own
    (``$ROOT/deploy/app.yaml``) below the repository's."""
    pattern = output.pattern
    if relative == pattern or fnmatch.fnmatchcase(relative, pattern):
        return True
    return ending and "/" in pattern and fnmatch.fnmatchcase(relative, "*/" + pattern)


#: ``kustomize build [flags] DIR`` / ``kubectl kustomize DIR``: the folder rendered.
_KUSTOMIZE_BUILD = re.compile(
    r"(?i)(?<![\w-])(?:\$\{|\$\()?(?:kustomize[\})]?[\"']?\s+build|(?:kubectl|oc)[\})]?[\"']?\s+"
    r"kustomize)((?:\s+--?[\w-]+(?:[= ](?!\.|/)[\w.-]+)?)*)\s+([\w./-]+)"
)


#: The file a command line writes: ``> F``, ``>> F``, ``| tee [-a] F``.
_WRITTEN = re.compile(r"(?:>>?|\btee\s+(?:-a\s+)?)[ \t]*(\S+)")


#: An operator bundle made from the rendering: ``kustomize build config/manifests |
#: operator-sdk generate bundle`` writes ``bundle/manifests/*.clusterserviceversion.yaml``,
#: whose deployments are the sources' (MetalLB Operator's CI regenerates it and diffs).
_BUNDLE = re.compile(r"\bgenerate\s+bundle\b")


def derived_builds(text: str, *, bundles: bool = False) -> list[tuple[str, int]]:
    """(folder, line) of each ``kustomize build`` whose output another command rewrites
    before it reaches a file (Harbor Operator's Makefile: ``$(KUSTOMIZE) build
    config/helm/deployment | $(KUSTOMIZE) cfg grep ... | sed ... >> $(CHART_TEMPLATE_PATH)
    /deployment.yaml``, a Helm chart's template). With ``bundles``, those that make an
    operator bundle of it instead (``| operator-sdk generate bundle``), which counts where
    the repository keeps the bundle it writes. Unlike a bundle kept in step (``outputs``),
    no edit of such a file follows from an edit of the sources: the next run of the line
    rewrites it, and a project that checks its generated files are up to date fails."""
    if "ustomize" not in text and "USTOMIZE" not in text:
        return []
    found: list[tuple[str, int]] = []
    for number, line in _logical_lines(text):
        build = _KUSTOMIZE_BUILD.search(line)
        if build is None:
            continue
        rest = line[build.end() :]
        piped = rest.find("|")
        if piped < 0 or rest[piped : piped + 2] == "||":
            continue
        written = _WRITTEN.search(rest, piped + 1)
        if bundles != bool(_BUNDLE.search(rest, piped + 1)):
            continue
        if bundles or (written is not None and written.group(1).strip("\"'").endswith(_SUFFIXES)):
            found.append((build.group(2).rstrip("/"), number))
    return found


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with backslash continuations joined."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        out.append((start, " ".join(pending)))
        pending = []
    if pending:
        out.append((start, " ".join(pending)))
    return out


def _values(word: str, lines: list[tuple[int, str]], depth: int = 0) -> list[str]:
    """``word`` itself, or the values a variable ``word`` is given in the file."""
    m = _VARIABLE.match(word)
    if m is None:
        return [word]
    if depth > 1:
        return []
    name = m.group(1) or m.group(2) or m.group(3)
    assign = re.compile(
        rf"(?:^|[;\s])(?:export\s+|local\s+|readonly\s+)?{name}\s*[:?]?=\s*(.*)$"
        rf"|\bfor\s+{name}\s+in\s+(.*?)(?:;|\s+do\b|$)"
    )
    found: list[str] = []
    for _, line in lines:
        for hit in assign.finditer(line):
            value = hit.group(1) if hit.group(1) is not None else hit.group(2)
            for item in re.findall(r"\"[^\"]*\"|'[^']*'|[^\s()\"']+", value or ""):
                found += _values(item.strip("\"'"), lines, depth + 1)
    return found


def _pattern(word: str) -> str | None:
    """The path a word names, variables as ``*`` and a leading ``$ROOT/`` or ``./``
    dropped; None when it names no manifest file."""
    word = word.strip()
    if not word.endswith(_SUFFIXES) or "://" in word or "{}" in word:
        return None
    word = _relative(word)
    if not word or word.startswith("/") or (word.startswith("*") and "/" not in word):
        return None  # an absolute path, or a name that could be any file
    return word


def _relative(word: str) -> str:
    """A path as a pattern from the script's root: a leading ``$ROOT/`` or ``./`` dropped,
    other variables as ``*``."""
    word = re.sub(r"^(?:\$\{\w+\}|\$\(\w+\)|\$\w+)/", "", word)
    while word.startswith("./"):
        word = word[2:]
    return re.sub(r"\$\{[^}]*\}|\$\([^)]*\)|\$\w+", "*", word)


#: A Go program that writes a file: ``os.WriteFile(path, ...)``, ``os.Create(path)``,
#: ``os.OpenFile(path, ...)``.
_GO_WRITE = re.compile(r"\bos\.(?:WriteFile|Create|OpenFile)\(")
_GO_JOIN = re.compile(r"\b(?:filepath|path)\.Join\(([^()]*)\)")
_GO_STRING = re.compile(r'^"([^"\\]*)"$')
_GO_TAIL = re.compile(r'\+\s*"([^"\\]*)"$')


def go_outputs(text: str) -> list[Output]:
    """Manifests a Go generator writes (tailscale's ``cmd/k8s-operator/generate/main.go``
    writes ``cmd/k8s-operator/deploy/manifests/operator.yaml`` from its Helm chart, and a
    test checks the file is up to date): the path of each ``os.WriteFile``/``os.Create``
    call named by string literals, directly or joined (``filepath.Join(repoRoot,
    "deploy", "operator.yaml")``: a leading variable is the root, a later one any name)."""
    if _GO_WRITE.search(text) is None:
        return []
    found: list[Output] = []
    for number, line in enumerate(text.splitlines(), 1):
        call = _GO_WRITE.search(line)
        if call is None:
            continue
        rest = line[call.end() :]
        join = _GO_JOIN.match(rest.lstrip())
        parts = join.group(1).split(",") if join else [rest.split(",", 1)[0].rstrip(")")]
        words: list[str] = []
        for index, part in enumerate(p.strip() for p in parts):
            literal = _GO_STRING.match(part)
            if literal:
                words.append(literal.group(1))
            elif index or not join:
                tail = _GO_TAIL.search(part)  # ``kind + ".yaml"``
                words.append("*" + (tail.group(1) if tail else ""))
        pattern = "/".join(w.strip("/") for w in words if w)
        if pattern.endswith(_SUFFIXES) and pattern.strip("*/"):
            found.append(Output(pattern, number, "a Go generator"))
    return found
