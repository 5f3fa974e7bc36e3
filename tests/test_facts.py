"""Every custom fact's command and parsing, from recorded outputs (pyinfra-testing data files in
tests/facts/<module>.<Fact>/)."""

from pathlib import Path

from pyinfra_testing.facts import make_fact_tests

TESTS = Path(__file__).parent / "facts"

for fact_path in sorted(d.name for d in TESTS.iterdir() if d.is_dir()):
    locals()[fact_path] = make_fact_tests("facts", fact_path, TESTS / fact_path)
