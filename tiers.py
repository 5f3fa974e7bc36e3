"""A worker's storage tiers (``alluxio_tiers``): levels, each with an alias and one or more
folders with a quota each, checked before any host is contacted and rendered to the
``alluxio.worker.tieredstore.*`` properties 1.x reads.

Level 0 is the RAM folder: the scripts mount ``ALLUXIO_RAM_FOLDER`` as one ramfs sized by
``ALLUXIO_WORKER_MEMORY_SIZE`` and pass it as ``-Dalluxio.worker.tieredstore.level0.dirs.path``
(section 7.3), so level 0 is one folder, aliased MEM, with those two values: declared here (the
tool then writes the two variables) or in ``alluxio_env``, not differently in both. Two folders
in level 0 would make the mount script mount one folder named ``/a,/b`` (Alluxio #8687).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from alluxio_site import size_bytes
from layout import DEFAULT_RAM_FOLDER

# The master's global order of tiers (alluxio.master.tieredstore.global.level{N}.alias): a
# worker's levels must follow it, top (fastest) first.
GLOBAL_ALIASES = ("MEM", "SSD", "HDD")
DEFAULT_MEMORY_SIZE = "1GB"  # the release's alluxio.worker.memory.size
MARKER = ".alluxio-reconcile-tier"  # in each disk tier's folder: the converge that made it


class TierError(ValueError):
    """A tier declaration is wrong; the message names the level and the field."""


class Tier(BaseModel):
    model_config = ConfigDict(frozen=True)
    level: int
    alias: str
    dirs: tuple[str, ...]
    quotas: tuple[str, ...]
    reserved_ratio: str | None = None

    def marker_text(self, folder: str) -> str:
        """What the marker in ``folder`` says: which level and folder it was made for (a disk
        moved to another folder, or another file system mounted over it, says otherwise)."""
        return f"level{self.level} {self.alias} {folder}\n"


def parse(raw: Any, env: Mapping[str, str], source: str) -> tuple[Tier, ...]:
    """The declared tiers, checked; ``env`` is ``alluxio_env`` (level 0 must agree with its
    ``ALLUXIO_RAM_FOLDER`` and ``ALLUXIO_WORKER_MEMORY_SIZE``)."""
    if raw is None:
        return ()
    field = f"{source} alluxio_tiers"
    if not isinstance(raw, list) or not raw:
        raise TierError(f"{field}={raw!r}: a JSON list of levels, level 0 (the RAM folder) first")
    if len(raw) > len(GLOBAL_ALIASES):
        raise TierError(
            f"{field}: {len(raw)} levels; the master orders {len(GLOBAL_ALIASES)} "
            f"({', '.join(GLOBAL_ALIASES)})"
        )
    tiers = [_level(n, entry, f"{field}[{n}]") for n, entry in enumerate(raw)]
    _check_order(tiers, field)
    level0 = tiers[0]
    ram, memory = env.get("ALLUXIO_RAM_FOLDER"), env.get("ALLUXIO_WORKER_MEMORY_SIZE")
    if ram is not None and level0.dirs and level0.dirs != (posixpath.normpath(ram),):
        raise TierError(
            f"{field}[0].dirs={list(level0.dirs)!r}: alluxio_env's ALLUXIO_RAM_FOLDER={ram!r} says "
            "otherwise; declare the RAM folder in one place"
        )
    if memory is not None and level0.quotas and size_bytes(level0.quotas[0]) != _bytes(memory, field):
        raise TierError(
            f"{field}[0].quotas={list(level0.quotas)!r}: alluxio_env's ALLUXIO_WORKER_MEMORY_SIZE="
            f"{memory!r} says otherwise; declare the RAM tier's size in one place"
        )
    first = level0.model_copy(
        update={
            "dirs": level0.dirs or (posixpath.normpath(ram or DEFAULT_RAM_FOLDER),),
            "quotas": level0.quotas or (memory or DEFAULT_MEMORY_SIZE,),
        }
    )
    tiers[0] = first
    _check_folders(tiers, field)
    return tuple(tiers)


def _bytes(size: str, field: str) -> int:
    try:
        return size_bytes(size)
    except ValueError:
        raise TierError(f"{field}: {size!r} is not a size such as 512MB or 1GB") from None


def _level(n: int, entry: Any, where: str) -> Tier:
    if not isinstance(entry, Mapping):
        raise TierError(f"{where}={entry!r}: an object with alias, dirs and quotas")
    unknown = set(entry) - {"alias", "dirs", "quotas", "reserved_ratio"}
    if unknown:
        raise TierError(f"{where}: unknown field {sorted(unknown)[0]!r}; alias, dirs, quotas, reserved_ratio")
    alias = entry.get("alias", "MEM" if n == 0 else None)
    if alias not in GLOBAL_ALIASES:
        raise TierError(f"{where}.alias={alias!r}: one of {', '.join(GLOBAL_ALIASES)}")
    if n == 0 and alias != "MEM":
        raise TierError(f"{where}.alias={alias!r}: level 0 is the RAM folder the scripts mount: MEM")
    if n > 0 and alias == "MEM":
        raise TierError(f"{where}.alias='MEM': only level 0 is in memory (the RAM folder)")
    dirs = _strings(entry.get("dirs", [] if n == 0 else None), f"{where}.dirs", "folders")
    quotas = _strings(entry.get("quotas", [] if n == 0 else None), f"{where}.quotas", "sizes")
    if n == 0 and len(dirs) > 1:
        raise TierError(
            f"{where}.dirs={dirs!r}: level 0 is one RAM folder (alluxio-mount.sh mounts "
            "ALLUXIO_RAM_FOLDER as one ramfs: two would become one mount point named "
            f"{','.join(dirs)!r}, Alluxio #8687); put disk folders in a level of their own"
        )
    if n > 0 and not dirs:
        raise TierError(f"{where}.dirs: at least one folder")
    if len(quotas) != len(dirs) and not (n == 0 and not quotas):
        raise TierError(
            f"{where}: {len(dirs)} dirs and {len(quotas)} quotas; give one quota per folder, in order"
        )
    for i, quota in enumerate(quotas):
        if _bytes(quota, f"{where}.quotas[{i}]") <= 0:
            raise TierError(f"{where}.quotas[{i}]={quota!r}: more than 0 bytes")
    ratio = entry.get("reserved_ratio")
    number = isinstance(ratio, (int, float)) and not isinstance(ratio, bool)
    if ratio is not None and not (number and 0 <= ratio < 1):
        raise TierError(f"{where}.reserved_ratio={ratio!r}: a number from 0 up to 1 (not 1)")
    return Tier(
        level=n,
        alias=alias,
        dirs=tuple(_folder(d, f"{where}.dirs[{i}]") for i, d in enumerate(dirs)),
        quotas=tuple(q.strip() for q in quotas),
        reserved_ratio=None if ratio is None else str(ratio),
    )


def _strings(value: Any, where: str, what: str) -> list[str]:
    if value is None:
        raise TierError(f"{where}: required, a list of {what}")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TierError(f"{where}={value!r}: a list of {what}")
    return value


def _folder(path: str, where: str) -> str:
    if not path.startswith("/"):
        raise TierError(f"{where}={path!r}: an absolute path")
    if any(c in path for c in ",\t\n\r\0") or path != path.strip():
        raise TierError(
            f"{where}={path!r}: no commas (1.x splits the list on them), tabs, newlines or outer spaces"
        )
    normal = posixpath.normpath(path)
    if normal == "/" or ".." in normal.split("/"):
        raise TierError(f"{where}={path!r}: a folder below /, without '..'")
    return normal


def _check_order(tiers: list[Tier], field: str) -> None:
    order = [GLOBAL_ALIASES.index(t.alias) for t in tiers]
    if order != sorted(set(order)):
        raise TierError(
            f"{field}: aliases {[t.alias for t in tiers]!r}; each once, in the master's order "
            f"{', '.join(GLOBAL_ALIASES)} (fastest first)"
        )


def _check_folders(tiers: list[Tier], field: str) -> None:
    """No folder twice, none inside another (1.x would count its blocks twice), and no disk
    folder inside the RAM folder (it would be in memory) or inside a release folder (an upgrade
    moves to another)."""
    seen: list[tuple[str, str]] = []
    for tier in tiers:
        for i, folder in enumerate(tier.dirs):
            where = f"{field}[{tier.level}].dirs[{i}]"
            for other, other_where in seen:
                if folder == other or folder.startswith(other + "/") or other.startswith(folder + "/"):
                    raise TierError(f"{where}={folder!r}: overlaps {other_where}={other!r}")
            if re.search(r"/alluxio-\d", folder):
                raise TierError(f"{where}={folder!r}: inside a release folder, which an upgrade leaves")
            seen.append((folder, where))


def properties(tiers: tuple[Tier, ...]) -> dict[str, str]:
    """The ``alluxio.worker.tieredstore.*`` keys of ``tiers``. Level 0's folder and size arrive
    as the scripts' ``-D`` options, from the alluxio-env.sh variables the tool writes."""
    if not tiers:
        return {}
    out = {"alluxio.worker.tieredstore.levels": str(len(tiers))}
    for tier in tiers:
        prefix = f"alluxio.worker.tieredstore.level{tier.level}"
        out[f"{prefix}.alias"] = tier.alias
        if tier.level > 0:
            out[f"{prefix}.dirs.path"] = ",".join(tier.dirs)
            out[f"{prefix}.dirs.quota"] = ",".join(tier.quotas)
        if tier.reserved_ratio is not None:
            out[f"{prefix}.reserved.ratio"] = tier.reserved_ratio
    return out


def env_settings(tiers: tuple[Tier, ...]) -> dict[str, str]:
    """The alluxio-env.sh variables level 0 stands for."""
    if not tiers:
        return {}
    return {"ALLUXIO_RAM_FOLDER": tiers[0].dirs[0], "ALLUXIO_WORKER_MEMORY_SIZE": tiers[0].quotas[0]}
