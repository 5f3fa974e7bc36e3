"""operations/pyinfra_costs.py: the lighter bookkeeping gives pyinfra what its own would."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pyinfra
import pytest
from pyinfra.api import arguments, util

from operations import pyinfra_costs

THIS_FILE = __file__


def _nested(depth: int, probe):  # type: ignore[no-untyped-def]
    """Call ``probe`` from ``depth`` frames down, so that the stacks compared are deep."""
    if depth == 0:
        return probe()
    return _nested(depth - 1, probe)


@pytest.mark.parametrize("deploy_file", [THIS_FILE, "", "/no/such/deploy.py"])
@pytest.mark.parametrize("is_cli", [True, False])
def test_the_operations_place_is_read_off_the_same_frames(
    deploy_file: str, is_cli: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pyinfra, "is_cli", is_cli)
    state = SimpleNamespace(current_deploy_filename=deploy_file, current_op_file_number=7)

    def both() -> tuple[list[int], list[int]]:
        # called from the same frame, as pyinfra's operation wrapper calls its function
        return util.get_operation_order_from_stack(state), pyinfra_costs.operation_order_from_stack(state)

    for depth in (0, 3, 12):
        theirs, ours = _nested(depth, both)
        assert ours == theirs
        if deploy_file != "/no/such/deploy.py":  # else nothing is listed, by pyinfra's own rule
            assert len(ours) > depth  # the nested frames are in it: a real stack was read


def test_the_global_arguments_are_computed_once_and_are_the_same() -> None:
    expected = pyinfra_costs._ORIGINAL_ARGUMENTS()
    pyinfra_costs.lighten()
    assert arguments.all_global_arguments() == expected
    assert arguments.all_global_arguments() is arguments.all_global_arguments()  # cached
    operation_module = sys.modules["pyinfra.api.operation"]
    assert operation_module.get_operation_order_from_stack is pyinfra_costs.operation_order_from_stack
    pyinfra_costs.lighten()  # twice is harmless: nothing is wrapped again
    assert operation_module.get_operation_order_from_stack is pyinfra_costs.operation_order_from_stack
