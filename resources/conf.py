"""Alluxio's configuration files: conf/workers, conf/alluxio-env.sh and conf/alluxio-site.properties."""

from __future__ import annotations

import re
from dataclasses import replace

from alluxio_site import is_secret
from cluster import Cluster
from facts.node import NodeSnapshot
from layout import (
    ENV_PATH,
    MANAGED_MODES,
    SECRET_SITE_MODE,
    SITE_PATH,
    WORKERS_PATH,
)
from resources.verdict import (
    DRIFTED,
    IN_SYNC,
    Verdict,
    text_verdict,
    unified,
)


def workers_file(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    path = f"{cluster.install_dir}/{WORKERS_PATH}"
    verdict = text_verdict(
        "workers_file",
        path,
        snap.workers_file.file,
        cluster.workers_file,
        " ".join(cluster.workers),
        MANAGED_MODES[WORKERS_PATH],
    )
    actual = " ".join(snap.workers_file.hosts) if snap.workers_file.file.exists else "absent"
    if snap.workers_file.file.exists and not verdict.in_sync and snap.workers_file.hosts == cluster.workers:
        actual += " (the same hosts, other text: see the diff)"
    return replace(verdict, actual=actual)


def alluxio_env(cluster: Cluster, name: str, snap: NodeSnapshot) -> Verdict:
    path = f"{cluster.install_dir}/{ENV_PATH}"
    desired_settings = cluster.env_settings_of(name)
    verdict = text_verdict(
        "alluxio_env",
        path,
        snap.alluxio_env.file,
        cluster.alluxio_env_of(name),
        " ".join(f"{k}={v}" for k, v in desired_settings.items()),
        MANAGED_MODES[ENV_PATH],
    )
    have = snap.alluxio_env.settings
    if not snap.alluxio_env.file.exists:
        return replace(verdict, actual="absent")
    actual = " ".join(f"{k}={v}" for k, v in have.items()) or "(no settings)"
    if have == desired_settings and verdict.details.file is not None and verdict.details.file.write:
        actual += " (the same settings, other text: see the diff)"  # a comment or a blank line
    if note := verdict.actual.partition(", ")[2]:
        actual += f", {note}"
    return replace(verdict, actual=actual)


def alluxio_site(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """The site file as declared, and the only one the daemons load: a site file in
    ``/etc/alluxio/`` would be loaded instead (section 7.4). Secret values
    (an object store's credentials) are shown as ``***`` in the summary and the diff."""
    path = f"{cluster.install_dir}/{SITE_PATH}"
    want = cluster.site_properties
    verdict = text_verdict(
        "alluxio_site",
        path,
        snap.alluxio_site.file,
        cluster.alluxio_site,
        _summary(cluster, want) or "(no keys)",
        cluster.site_mode,
    )
    have = snap.alluxio_site.properties
    actual = "absent"
    if snap.alluxio_site.file.exists:
        actual = _summary(cluster, have) or "(no keys)"
        if have == want and verdict.details.file is not None and verdict.details.file.write:
            actual += " (the same keys, other text: see the diff)"
        if note := verdict.actual.partition(", ")[2]:
            actual += f", {note}"
    secrets = [k for k in {**want, **have} if is_secret(cluster.version, k)]
    diff = verdict.diff
    if secrets and diff is not None:
        masked = _mask(cluster.alluxio_site, secrets) or ""
        diff = unified(path, _mask(snap.alluxio_site.file.text, secrets), masked)
    status, shadowed = verdict.status, snap.shadowing_site
    if shadowed:
        status = DRIFTED if status == IN_SYNC else status
        actual = f"hidden by {', '.join(shadowed)} (1.x loads only the first site file it finds); " + actual
    file = verdict.details.file
    if file is not None and cluster.site_mode == SECRET_SITE_MODE:
        file = replace(file, secret=True)
    return replace(
        verdict,
        status=status,
        actual=actual,
        diff=diff,
        details=replace(verdict.details, shadowed=shadowed, file=file),
    )


def _summary(cluster: Cluster, properties: dict[str, str]) -> str:
    return " ".join(f"{k}={'***' if is_secret(cluster.version, k) else v}" for k, v in properties.items())


def _mask(text: str | None, secrets: list[str]) -> str | None:
    """``text`` with the values of ``secrets`` as ``***``, their continuation lines too."""
    if text is None:
        return None
    start = re.compile(rf"^(\s*(?:{'|'.join(re.escape(k) for k in secrets)})\s*[=:\s]\s*).*$")
    out, hiding = [], False
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        continued = (len(body) - len(body.rstrip("\\"))) % 2 == 1
        if hiding:
            out.append("***" + line[len(body) :])
        elif match := start.match(body):
            out.append(match.group(1) + "***" + line[len(body) :])
            hiding = continued
            continue
        else:
            out.append(line)
        hiding = hiding and continued
    return "".join(out)
