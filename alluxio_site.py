"""``conf/alluxio-site.properties``: the keys each supported release knows, their types, which
daemon reads each, and the checks a declared value passes before any host is contacted.

The tables (``keys/alluxio-<version>.tsv``) were read from the releases' sources: the keys and
defaults from ``core/common/src/main/resources/alluxio-default.properties`` (1.2.0) and
``core/common/src/main/java/alluxio/PropertyKey.java`` (1.3.0); the readers from where the
daemons' code reads each key (``core/server/.../master`` the master, ``.../worker`` the worker,
shared code both, client and shell code neither). See ``keys/README.md``.

What a 1.x process ends up with (section 7.4 of the interface reference, and
``Configuration.java`` at each tag): its defaults, then the first ``alluxio-site.properties``
found along ``alluxio.site.conf.dir`` and then the class path (``conf/``), then the JVM's ``-D``
options, which win. So a key the scripts pass as ``-D`` cannot be set here, and a site file in
``/etc/alluxio/`` hides ours. The default ``alluxio.site.conf.dir`` is
``${user.home}/.alluxio/,/etc/alluxio/``, but both tags read it from the raw defaults, with
``${user.home}`` never substituted: ``~/.alluxio/`` is not searched in 1.2.0 or 1.3.0.

A key the release does not know: 1.2.0's daemons exit on an ``alluxio.*`` one
(``ConfigurationUtils.validateConf``: ``Unsupported or deprecated property``, then ``Invalid
configuration found``), site file and ``-D`` alike; 1.3.0 drops every key it does not know
(``Configuration.merge`` keeps ``PropertyKey.isValid`` keys only). Values are not trimmed:
``true `` reads as false.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from layout import MANAGED_BY

KEYS_DIR = Path(__file__).resolve().parent / "keys"
MASTER, WORKER, BOTH, CLIENT, NONE = "master", "worker", "both", "client", "none"
READERS = (MASTER, WORKER, BOTH, CLIENT, NONE)

# Where 1.x looks for the site file before conf/ (see above: not ~/.alluxio/).
SHADOWING_FOLDERS = ("/etc/alluxio",)
SITE_FILE = "alluxio-site.properties"

# The -D options the scripts always pass or build from alluxio-env.sh variables (section 7.3),
# each with what to declare instead: a value in the site file would never be read.
SCRIPT_OPTIONS = {
    "alluxio.home": "the release folder, passed by the scripts",
    "alluxio.logs.dir": "the release's logs folder, passed by the scripts",
    "alluxio.logger.type": "each daemon's logger, passed by the scripts",
    "alluxio.master.hostname": "the inventory's master (ALLUXIO_MASTER_HOSTNAME)",
    "alluxio.underfs.address": "alluxio_underfs_address (ALLUXIO_UNDERFS_ADDRESS)",
    "alluxio.worker.memory.size": "ALLUXIO_WORKER_MEMORY_SIZE or level 0's quota",
    "alluxio.worker.tieredstore.level0.dirs.path": "ALLUXIO_RAM_FOLDER or level 0 of alluxio_tiers",
}
# Keys the tool sets itself for fault-tolerant masters: declared through their data keys.
FAULT_TOLERANCE = {
    "alluxio.zookeeper.enabled": "alluxio_zookeeper (fault tolerance is on when it is given)",
    "alluxio.zookeeper.address": "alluxio_zookeeper",
    "alluxio.master.journal.folder": "alluxio_journal_folder (for fault-tolerant masters)",
}
JAVA_OPTS = (
    "ALLUXIO_JAVA_OPTS",
    "ALLUXIO_MASTER_JAVA_OPTS",
    "ALLUXIO_WORKER_JAVA_OPTS",
    "ALLUXIO_USER_JAVA_OPTS",
)
TIER_KEY = re.compile(r"^alluxio\.worker\.tieredstore\.(levels|level(\d+)\..+)$")

# FormatUtils.parseSpaceSize: a number, then nothing, B, KB, MB, GB, TB or PB (any case), no blank
_SIZE = re.compile(r"^[0-9]+(\.[0-9]+)?(b|kb|mb|gb|tb|pb)?$", re.I)
_INTEGER = re.compile(r"^-?[0-9]+$")
_CLASS = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")


class SiteError(ValueError):
    """A declared site property is wrong; the message names the key and what is accepted."""


@dataclass(frozen=True)
class Key:
    name: str  # a level's keys are written with {N} for the level
    default: str
    type: str  # int, long, ms, port, bool, bytes, float, path, uri, host, class, list, string, secret
    readers: str  # master, worker, both, client, none


@cache
def keys_of(version: str) -> dict[str, Key]:
    """The release's keys by name, from its table."""
    table: dict[str, Key] = {}
    path = KEYS_DIR / f"alluxio-{version}.tsv"
    for number, line in enumerate(path.read_text().splitlines()[1:], start=2):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 4 or fields[3] not in READERS:
            raise ValueError(f"{path}:{number}: want key, default, type, readers; got {line!r}")
        table[fields[0]] = Key(fields[0], fields[1], fields[2], fields[3])
    return table


def key_of(version: str, name: str) -> Key | None:
    """The table's entry for ``name`` (a level's key by its {N} form), or None."""
    table = keys_of(version)
    return table.get(name) or table.get(re.sub(r"\.level\d+\.", ".level{N}.", name))


def readers_of(version: str, name: str) -> str:
    """Which daemons read ``name``; a key the release does not know (declared deliberate) is
    taken to concern both, as nothing says otherwise."""
    if TIER_KEY.match(name):
        return WORKER
    key = key_of(version, name)
    return key.readers if key is not None else BOTH


def is_secret(version: str, name: str) -> bool:
    key = key_of(version, name)
    return key is not None and key.type == "secret"


def check(
    version: str,
    site: Mapping[str, str],
    deliberate: Sequence[str],
    java_options: Mapping[str, str],
    source: str,
) -> None:
    """Refuse what the release would not read as declared: an unknown key (unless listed in
    ``deliberate``), a value of the wrong type, a key the scripts or ``java_options`` (the
    ``-D`` options of alluxio-env.sh's ``*_JAVA_OPTS``: key -> variable) pass as ``-D``, and a
    key ``alluxio_tiers`` owns."""
    known = keys_of(version)
    for name, value in site.items():
        where = f"{source} alluxio_site[{name!r}]"
        if any(c in value for c in "\n\r\0"):
            raise SiteError(f"{where}: the value has a newline or NUL")
        if name in SCRIPT_OPTIONS:
            raise SiteError(
                f"{where}: the scripts pass -D{name}, which wins over the site file; "
                f"declare {SCRIPT_OPTIONS[name]} instead"
            )
        if name in FAULT_TOLERANCE:
            raise SiteError(f"{where}: the tool sets it; declare {FAULT_TOLERANCE[name]} instead")
        if name in java_options:
            raise SiteError(
                f"{where}: alluxio_env's {java_options[name]} also sets -D{name}, which would win "
                "over the site file; declare it in one place"
            )
        if TIER_KEY.match(name):
            raise SiteError(f"{where}: a storage tier's key; declare the tiers in alluxio_tiers")
        if name.startswith("alluxio.master.tieredstore.global."):
            raise SiteError(
                f"{where}: alluxio_tiers is checked against the release's order of tiers "
                "(MEM, SSD, HDD); another order is not supported"
            )
        key = key_of(version, name)
        if key is None:
            if name not in deliberate:
                raise SiteError(
                    f"{where}: not a key of Alluxio {version}{_nearest(version, name)}; list it in "
                    "alluxio_site_deliberate if it is meant"
                )
            if version == "1.2.0" and name.startswith("alluxio."):
                raise SiteError(
                    f"{where}: Alluxio 1.2.0's daemons exit on an alluxio.* key they do not know "
                    "('Unsupported or deprecated property'), deliberate or not"
                )
            continue
        if value != value.strip():
            raise SiteError(f"{where}={value!r}: blanks around the value (1.x keeps them: 'true ' is false)")
        check_value(key, value, where, known)


def check_java_options(version: str, options: Mapping[str, str], source: str) -> None:
    """The ``-Dalluxio.*`` options of alluxio-env.sh's ``*_JAVA_OPTS`` (key -> variable) name
    keys the release knows: 1.2.0's daemons exit on any other, 1.3.0 ignores it."""
    for name, variable in options.items():
        if name in FAULT_TOLERANCE:
            raise SiteError(
                f"{source} alluxio_env[{variable!r}]: -D{name} is the tool's to set; declare "
                f"{FAULT_TOLERANCE[name]} instead"
            )
        if name.startswith("alluxio.") and key_of(version, name) is None and not TIER_KEY.match(name):
            effect = "its daemons exit on it" if version == "1.2.0" else "it ignores it"
            raise SiteError(
                f"{source} alluxio_env[{variable!r}]: -D{name} is not a key of Alluxio {version}"
                f"{_nearest(version, name)}; {effect}"
            )


def _nearest(version: str, name: str) -> str:
    names = [k for k in keys_of(version) if "{N}" not in k]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_value(key: Key, value: str, where: str, known: Mapping[str, Key] | None = None) -> None:
    """``value`` is one of ``key``'s type (a ``${key}`` reference is checked by the name it
    refers to, as its value is only known on the host)."""
    if any(c in value for c in "\n\r\0"):
        raise SiteError(f"{where}: the value has a newline or NUL")
    refs = _REFERENCE.findall(value)
    if refs:
        system = ("java.", "user.")  # the JVM's own properties
        unknown = [r for r in refs if known is not None and r not in known and not r.startswith(system)]
        if unknown:
            raise SiteError(f"{where}={value!r}: refers to ${{{unknown[0]}}}, not a key of the release")
        return
    text = value.strip()
    ok = True
    accepted = ""
    match key.type:
        case "int" | "long" | "ms":
            ok, accepted = bool(_INTEGER.match(text)), "a whole number"
        case "port":
            ok = bool(_INTEGER.match(text)) and 1 <= int(text) <= 65535
            accepted = "a port, 1 to 65535"
        case "bool":
            ok, accepted = text in ("true", "false"), "true or false"
        case "bytes":
            ok, accepted = bool(_SIZE.match(text)), "a size such as 512MB or 1GB"
        case "float" | "double":
            try:
                float(text)
            except ValueError:
                ok = False
            accepted = "a number"
        case "path":
            ok, accepted = text.startswith("/"), "an absolute path"
        case "class":
            ok, accepted = bool(_CLASS.match(text)), "a Java class name"
        case _:
            ok, accepted = bool(text), "a value"
    if not ok:
        raise SiteError(f"{where}={value!r}: {accepted} (the release's default is {key.default!r})")


def java_options(env: Mapping[str, str]) -> dict[str, str]:
    """The ``-Dkey=value`` options of alluxio-env.sh's ``*_JAVA_OPTS``: key -> variable."""
    found: dict[str, str] = {}
    for variable in JAVA_OPTS:
        try:
            words = shlex.split(env.get(variable, ""))
        except ValueError:
            words = env.get(variable, "").split()
        for word in words:
            if word.startswith("-D") and "=" in word:
                found.setdefault(word[2:].split("=", 1)[0], variable)
    return found


def is_size(text: str) -> bool:
    return bool(_SIZE.match(text))


def size_bytes(size: str) -> int:
    """Bytes in a size as 1.x reads it (``FormatUtils.parseSpaceSize``: 1024-based units)."""
    match = re.match(r"^([0-9]+(?:\.[0-9]+)?)([a-z]*)$", size, re.I)
    if not match or not _SIZE.match(size):
        raise ValueError(f"not a size: {size!r}")
    scale = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
    return int(float(match.group(1)) * scale[match.group(2).lower()[:1]])


# ----- the file --------------------------------------------------------------------------
def render(properties: Mapping[str, str]) -> str:
    """The site file: a header, then one ``key=value`` line per property, in order, escaped
    as ``java.util.Properties.load`` reads them (ISO 8859-1, ``\\uXXXX`` beyond it)."""
    lines = [f"{_escape(k, key=True)}={_escape(v)}" for k, v in properties.items()]
    return MANAGED_BY + "\n" + "".join(f"{line}\n" for line in lines)


def _escape(text: str, key: bool = False) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\t\f\n\r":
            out.append({"\t": "\\t", "\f": "\\f", "\n": "\\n", "\r": "\\r"}[ch])
        elif ch == " " and (key or i == 0):
            out.append("\\ ")
        elif (key and ch in "=:#!") or (i == 0 and ch in "#!"):
            out.append("\\" + ch)
        elif ord(ch) > 0x7E:  # the file is read as ISO 8859-1: anything else escaped
            units = ch.encode("utf-16-be")
            out += [f"\\u{int.from_bytes(units[j : j + 2], 'big'):04x}" for j in range(0, len(units), 2)]
        else:
            out.append(ch)
    return "".join(out)
