"""Merge review of the fifteenth session: hardening fields on a pod that only runs on
Windows nodes change nothing (secrets-store-csi-driver's Windows DaemonSet); a
``privileged: true`` left commented out for users to switch on keeps the container free of
``allowPrivilegeEscalation: false`` (Elastic's agent recipe); a ``{NAME}`` placeholder a
script fills is a template, not invalid YAML (cert-manager's e2e bind Service); a value
that calls itself a dummy is no secret (paperless-ngx's build-time Django key)."""

from __future__ import annotations

from pathlib import Path

from tests.fixture_repos import copy_repo, findings, needs, one, tighten


def test_pods_that_only_run_on_windows_get_no_linux_fields(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "K8S002")
    assert not [
        f for f in found if f["path"] in ("windows/driver-windows.yaml", "windows/affinity.yaml")
    ]
    # Either OS may run it: the Linux nodes apply the fields.
    assert one(found, "windows/either.yaml", "allowPrivilegeEscalation is not false")["fix"]


def test_a_commented_out_privileged_switch_keeps_escalation_allowed(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "K8S002")
    init = one(found, "switch/agent.yaml", "allowPrivilegeEscalation is not false, runs as UID 0")
    assert init["fixable"] is False
    assert init["reason"].startswith("its commented-out privileged: true (line 20) is left")
    diff = tighten("fix", "--dry-run", "--offline", "switch/agent.yaml", cwd=repo).stdout
    init_part = diff.split("- name: pause")[0]
    assert "allowPrivilegeEscalation" not in init_part  # the init container's own field
    assert "+          securityContext:\n+            allowPrivilegeEscalation: false" in diff
    assert "type: RuntimeDefault" in diff  # a privileged container ignores the profile


def test_a_placeholder_template_is_a_notice_not_an_error(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j15-review")
    out = tighten("check", "placeholders", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert "placeholders/service.yaml: skipped: looks like a template a script fills" in out.stderr
    assert "{SERVICE_IP_PREFIX} placeholders" in out.stderr
    assert "DF004" not in out.stdout  # build-time-dummy is no secret


def test_a_cron_daemon_keeps_root(tmp_path: Path) -> None:
    """docker-elk's curator image: ``USER root``, a crontab for ``nobody``, ``crond -f``.
    A cron daemon runs each crontab's jobs as its owner: as 10001 it could run none."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF001")
    why = needs(found, "cron/Dockerfile", "runs as root")
    assert "ENTRYPOINT at line 9 runs crond, a cron daemon" in why


def test_cron_words_that_are_not_the_daemon() -> None:
    from rules.nonroot_judge import _cron_daemon

    assert _cron_daemon('["/usr/sbin/cron", "-f"]') == "/usr/sbin/cron"
    assert _cron_daemon("busybox crond -f") == "crond"
    for text in (
        '["python", "cron.py"]',
        '["/app/cron-job"]',
        "node src/cron",
        "supercronic /etc/c",
    ):
        assert _cron_daemon(text) is None, text


def test_policy_demonstration_folders_are_test_data(tmp_path: Path) -> None:
    """Gatekeeper's demo applies ``bad_resources/`` and ``good_resources/`` on stage to
    show which its webhook refuses, and example/resources/ holds ``bad_pod_*.yaml``: cases
    as written. A ``good-examples/`` folder with no rejected sibling is source."""
    repo = copy_repo(tmp_path, "j15-review")
    out = tighten("check", "policy-demo", "best", cwd=repo)
    assert "policy-demo/bad_resources/ (policy test cases: rejected on purpose)" in out.stderr
    assert "good_resources/ (policy test cases: the accepted ones beside bad_resources/)" in (
        out.stderr
    )
    assert "policy-demo/resources/ (policy test cases: bad_pod_namespaceselector.yaml)" in (
        out.stderr
    )
    assert "policy-demo/" not in out.stdout
    assert "best/good-examples/opa.yaml" in out.stdout
