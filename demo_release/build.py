"""Build a demo release tarball for one supported Alluxio version.

The tarball has the real release's layout (``bin/``, ``conf/``, ``libexec/``, ``logs/``, the
assembly jar, the web resources) with the real files' modes, scripts written for this project
that behave like the release's from the outside, and a jar of stand-in JVM programs (master,
worker, the command-line tools) compiled from ``demo_release/java``. Script sources are shared
by the versions: lines between ``#%if V...`` / ``#%else`` / ``#%endif`` are kept for the listed
versions only, and ``@VERSION@`` becomes the version.
"""

from __future__ import annotations

import functools
import gzip
import io
import random
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from alluxio_site import keys_of

HERE = Path(__file__).parent
TREE = HERE / "tree"
JAVA_SOURCES = HERE / "java"
# Files are owned by the release builder's account, as in a downloaded tarball: that is why
# the post runs `chown -R root:root` after extracting.
BUILDER_UID = 1000
MTIME = 1469059200  # 2016-07-21, Alluxio 1.2.0's release week; fixed so builds are identical
ZIP_TIME = (2016, 7, 21, 0, 0, 0)
WEBAPP = "core/server/src/main/webapp"


@dataclass(frozen=True)
class Release:
    version: str
    tarball: str  # file name
    files: tuple[tuple[str, int], ...]  # path in the release -> mode

    @property
    def top(self) -> str:
        return f"alluxio-{self.version}"

    @property
    def jar(self) -> str:
        return f"assembly/target/alluxio-assemblies-{self.version}-jar-with-dependencies.jar"


_COMMON = (
    ("bin/alluxio", 0o755),
    ("bin/alluxio-fuse.sh", 0o755),
    ("bin/alluxio-mount.sh", 0o755),
    ("bin/alluxio-start.sh", 0o755),
    ("bin/alluxio-stop.sh", 0o755),
    ("bin/alluxio-workers.sh", 0o755),
    ("conf/alluxio-env.sh.template", 0o644),
    ("conf/alluxio-site.properties.template", 0o644),
    ("conf/core-site.xml.template", 0o644),
    ("conf/log4j.properties", 0o644),
    ("conf/metrics.properties.template", 0o644),
    ("conf/workers", 0o644),
    ("libexec/alluxio-config.sh", 0o755),
    ("libexec/alluxio-layout.sh.template", 0o755),
    ("logs/README.md", 0o644),
    (f"{WEBAPP}/index.html", 0o644),
)
RELEASES = {
    # The post's tarball name (Alluxio issue #3891); the docs name it alluxio-VERSION-bin.tar.gz.
    "1.2.0": Release(
        "1.2.0", "alluxio-1.2.0-cdh5-bin.tar.gz", (*_COMMON, (f"{WEBAPP}/WEB-INF/master.xml", 0o644))
    ),
    "1.3.0": Release("1.3.0", "alluxio-1.3.0-bin.tar.gz", _COMMON),
}
VERSIONS = tuple(RELEASES)


class BuildError(RuntimeError):
    """The release cannot be built here; the message says what is missing."""


def preprocess(text: str, version: str, name: str = "") -> str:
    """``text`` with the ``#%if`` blocks of other versions removed and ``@VERSION@`` set."""
    out: list[str] = []
    keep: list[bool] = []
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        directive = line.strip()
        if directive.startswith("#%if "):
            keep.append(version in directive.split()[1:])
        elif directive == "#%else":
            if not keep:
                raise BuildError(f"{name}:{number}: #%else without #%if")
            keep[-1] = not keep[-1]
        elif directive == "#%endif":
            if not keep:
                raise BuildError(f"{name}:{number}: #%endif without #%if")
            keep.pop()
        elif all(keep):
            out.append(line.replace("@VERSION@", version))
    if keep:
        raise BuildError(f"{name}: #%if without #%endif")
    return "".join(out)


@functools.cache
def _classes() -> dict[str, bytes]:
    """The stand-in JVM programs, compiled once per process: class path -> bytes."""
    javac = shutil.which("javac")
    if javac is None:
        raise BuildError(
            "javac not found: the demo release's jar needs a JDK (apt-get install openjdk-17-jdk-headless)"
        )
    sources = sorted(str(p) for p in JAVA_SOURCES.rglob("*.java"))
    options = ["-nowarn", "--release", "17", "-encoding", "UTF-8", "-cp", ":".join(map(str, _bundled_jars()))]
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [javac, *options, "-d", out, *sources],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BuildError(f"javac failed:\n{done.stderr}")
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(Path(out).rglob("*.class"))}


# What the real assembly jar bundles for fault tolerance, as Debian packages them: Curator (its
# LeaderSelector elects the masters), ZooKeeper's client, and what they need.
BUNDLED = ("curator-client", "curator-framework", "curator-recipes", "zookeeper", "zookeeper-jute",
           "guava", "slf4j-api", "slf4j-nop")  # fmt: skip
JAVA_LIBRARIES = Path("/usr/share/java")


def _bundled_jars() -> list[Path]:
    jars = [JAVA_LIBRARIES / f"{name}.jar" for name in BUNDLED]
    missing = [j.name for j in jars if not j.is_file()]
    if missing:
        raise BuildError(
            f"{', '.join(missing)} not found in {JAVA_LIBRARIES}: the demo release's jar bundles ZooKeeper's "
            "client as the real one does (apt-get install libcurator-recipes-java libslf4j-java)"
        )
    return jars


@functools.cache
def _bundled() -> dict[str, bytes]:
    """The bundled libraries' entries (the first of a name wins), signatures and manifests left out."""
    out: dict[str, bytes] = {}
    for path in _bundled_jars():
        with zipfile.ZipFile(path) as jar:
            for info in jar.infolist():
                name = info.filename
                meta = name == "META-INF/MANIFEST.MF" or name.rsplit(".", 1)[-1] in ("SF", "RSA", "DSA")
                if meta or name.endswith(("/", "module-info.class")) or name in out:
                    continue
                out[name] = jar.read(info)
    return out


def jar_bytes(version: str, pad_mb: int = 0) -> bytes:
    """The assembly jar: the stand-in classes, the version, and ``pad_mb`` MiB of incompressible
    padding (the real jar is most of a 150 MB tarball)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as jar:

        def add(name: str, data: bytes, compress: int = zipfile.ZIP_DEFLATED) -> None:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = compress
            info.external_attr = 0o644 << 16
            jar.writestr(info, data)

        add("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nCreated-By: alluxio-reconcile demo\r\n\r\n")
        add("alluxio-demo-version.properties", f"version={version}\n".encode())
        add("alluxio-demo-keys.txt", "".join(f"{k}\n" for k in keys_of(version)).encode())
        for name, data in _classes().items():
            add(name, data)
        for name, data in _bundled().items():
            add(name, data)
        if pad_mb > 0:
            add("demo-padding.bin", random.Random(pad_mb).randbytes(pad_mb * 1024 * 1024), zipfile.ZIP_STORED)
    return buffer.getvalue()


def contents(version: str, pad_mb: int = 0) -> dict[str, tuple[int, bytes]]:
    """Every file of the release: path -> (mode, bytes)."""
    release = RELEASES[version]
    files = {
        path: (mode, preprocess((TREE / path).read_text(), version, path).encode())
        for path, mode in release.files
    }
    files[release.jar] = (0o644, jar_bytes(version, pad_mb))
    return dict(sorted(files.items()))


def _member(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, MTIME
    info.uid = info.gid = BUILDER_UID
    info.uname = info.gname = "alluxio"
    return info


def build(out_dir: Path, pad_mb: int = 0, version: str = "1.2.0") -> Path:
    """Write the demo release of ``version`` into ``out_dir`` and return the tarball's path.

    The output is byte-for-byte reproducible with the same JDK.
    """
    if version not in RELEASES:
        raise BuildError(f"no demo release of Alluxio {version}: supported are {', '.join(VERSIONS)}")
    release = RELEASES[version]
    files = contents(version, pad_mb)
    folders = sorted(_ancestors(files))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / release.tarball
    tmp = target.with_suffix(".part")
    with (
        open(tmp, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        tar.addfile(_member(release.top, tarfile.DIRTYPE, 0o755))
        for folder in folders:
            tar.addfile(_member(f"{release.top}/{folder}", tarfile.DIRTYPE, 0o755))
        for path, (mode, data) in files.items():
            tar.addfile(_member(f"{release.top}/{path}", tarfile.REGTYPE, mode, len(data)), io.BytesIO(data))
    tmp.replace(target)
    return target


def _ancestors(files: dict[str, tuple[int, bytes]]) -> set[str]:
    out = set()
    for path in files:
        parts = Path(path).parts[:-1]
        out.update(str(Path(*parts[: i + 1])) for i in range(len(parts)))
    return out
