"""The project's own shell scripts are shellcheck clean (the demo release's imitate the real
release's, warts included, and are left as they are)."""

from __future__ import annotations

import subprocess

from tests.labutil import PROJECT

# every .sh of ours (not the demo release's, nor an installed package's), and CI's script
SCRIPTS = (
    ".ci/run",
    *sorted(
        str(p.relative_to(PROJECT))
        for p in PROJECT.rglob("*.sh")
        if not p.relative_to(PROJECT).parts[0].startswith(("demo_release", ".venv", "build", "."))
    ),
)


def test_every_script_we_send_is_checked() -> None:
    assert {"runtime/relay.sh", "runtime/lock.sh", "setup.sh", "demo.sh"} <= set(SCRIPTS)


def test_our_shell_scripts_are_shellcheck_clean() -> None:
    done = subprocess.run(["shellcheck", *SCRIPTS], cwd=PROJECT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_our_shell_scripts_parse_in_the_shell_they_name() -> None:
    for script in SCRIPTS:
        shell = (PROJECT / script).read_text().splitlines()[0].removeprefix("#!").split()[-1].rsplit("/")[-1]
        done = subprocess.run([shell, "-n", script], cwd=PROJECT, capture_output=True, text=True)
        assert done.returncode == 0, (script, done.stderr)


AWK = ("facts/changed_since_record.awk", "operations/compare_sums.awk", "operations/record_lines.awk")


def test_our_awk_programs_parse() -> None:
    """awk compiles a program before it reads input: one that does not parse fails here."""
    for program in AWK:
        done = subprocess.run(
            ["awk", "-f", program, "/dev/null"], cwd=PROJECT, capture_output=True, text=True
        )
        assert (done.returncode, done.stderr) == (0, ""), program
