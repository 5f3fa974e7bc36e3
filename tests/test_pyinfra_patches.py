"""runtime/pyinfra_patches.py: the lighter bookkeeping gives pyinfra what its own would; every
patch refuses a pyinfra, or a function, other than the one it was read from; tests put back
what they patch."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pyinfra
import pytest
from pyinfra.api import arguments, util

from runtime import pyinfra_patches

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
        return util.get_operation_order_from_stack(state), pyinfra_patches.operation_order_from_stack(state)

    for depth in (0, 3, 12):
        theirs, ours = _nested(depth, both)
        assert ours == theirs
        if deploy_file != "/no/such/deploy.py":  # else nothing is listed, by pyinfra's own rule
            assert len(ours) > depth  # the nested frames are in it: a real stack was read


@pytest.fixture
def lightened() -> object:
    pyinfra_patches.lighten()
    yield
    pyinfra_patches.unlighten()


def test_the_global_arguments_are_computed_once_and_are_the_same(lightened: object) -> None:
    expected = pyinfra_patches._ORIGINAL_ARGUMENTS()
    assert arguments.all_global_arguments() == expected
    assert arguments.all_global_arguments() is arguments.all_global_arguments()  # cached
    operation_module = sys.modules["pyinfra.api.operation"]
    assert operation_module.get_operation_order_from_stack is pyinfra_patches.operation_order_from_stack
    pyinfra_patches.lighten()  # twice is harmless: nothing is wrapped again
    assert operation_module.get_operation_order_from_stack is pyinfra_patches.operation_order_from_stack


def test_a_hosts_data_is_what_pyinfra_finds_and_follows_an_assignment(lightened: object) -> None:
    from pyinfra.api import Config, Inventory, State
    from pyinfra.api.host import HostData

    inventory = Inventory(
        ([("n1", {"ssh_port": 2222, "tags": ["a"]}), "n2"], {}),
        override_data={"_sudo": True},
        web=(["n2"], {"ssh_port": 2200}),
    )
    State(inventory, Config())
    n1, n2 = inventory.get_host("n1"), inventory.get_host("n2")
    assert HostData.__getattr__ is pyinfra_patches.host_data_lookup
    for _ in range(2):  # the second time from what was kept
        assert (n1.data.ssh_port, n2.data.ssh_port, n1.data._sudo) == (2222, 2200, True)
        assert n1.data.get("_su_user") is None and not hasattr(n2.data, "nothing")
    n1.data.tags.append("b")  # a copy, as pyinfra's own: what is kept does not change
    assert n1.data.tags == ["a"]
    n1.data._get_pty = True  # an assignment during the run is seen at once
    n2.data.ssh_port = 22
    assert n1.data._get_pty is True and n2.data.ssh_port == 22 and n1.data.ssh_port == 2222
    n2.current_deploy_data = {"deployed": 1}  # a deploy's data defaults, while it runs
    assert n2.data.deployed == 1
    n2.current_deploy_data = None
    assert not hasattr(n2.data, "deployed")


def test_unlighten_puts_pyinfras_own_back() -> None:
    pyinfra_patches.lighten()
    pyinfra_patches.unlighten()
    assert (
        sys.modules["pyinfra.api.operation"].get_operation_order_from_stack
        is util.get_operation_order_from_stack
    )
    assert arguments.all_global_arguments is pyinfra_patches._ORIGINAL_ARGUMENTS
    assert pyinfra_patches.HostData.__getattr__ is pyinfra_patches._ORIGINAL_DATA


def test_every_patched_function_is_the_one_read() -> None:
    """The real sources of pyinfra 3.10.0: each guard lets its patch apply."""
    from pyinfra.api import Host, State

    targets = {
        "pyinfra.api.util.get_operation_order_from_stack": util.get_operation_order_from_stack,
        "pyinfra.api.arguments.all_global_arguments": pyinfra_patches._ORIGINAL_ARGUMENTS,
        "pyinfra.api.state.State.init": State.init,
        "pyinfra.api.host.Host.disconnect": Host.disconnect,
        "pyinfra.api.host.HostData.__getattr__": pyinfra_patches._ORIGINAL_DATA,
    }
    assert set(targets) == set(pyinfra_patches.SOURCES)
    for name, function in targets.items():
        pyinfra_patches.check(name, function)  # does not raise


def test_a_changed_source_or_version_is_refused_naming_both(monkeypatch: pytest.MonkeyPatch) -> None:
    def get_operation_order_from_stack(state):  # type: ignore[no-untyped-def]
        return []  # a pyinfra that changed this function

    with pytest.raises(pyinfra_patches.PatchRefusedError, match=r"pyinfra 3\.10\.0: .*get_operation_order"):
        pyinfra_patches.check(
            "pyinfra.api.util.get_operation_order_from_stack", get_operation_order_from_stack
        )
    monkeypatch.setattr(pyinfra_patches, "version", lambda _: "3.11.0")
    with pytest.raises(
        pyinfra_patches.PatchRefusedError, match=r"pyinfra 3\.11\.0 is installed; .* read from 3\.10\.0"
    ):
        pyinfra_patches.check("pyinfra.api.state.State.init", pyinfra_patches.State.init)
    # installing refuses too, and leaves pyinfra as it was
    operation_module = sys.modules["pyinfra.api.operation"]
    with pytest.raises(pyinfra_patches.PatchRefusedError):
        pyinfra_patches.lighten()
    assert operation_module.get_operation_order_from_stack is util.get_operation_order_from_stack


def test_the_wrappers_run_around_pyinfras_own() -> None:
    calls: list[str] = []

    class Thing:
        def disconnect(self) -> None:
            calls.append("disconnect")

    host = Thing()
    real = pyinfra_patches.check
    try:
        pyinfra_patches.check = lambda name, function: None  # type: ignore[assignment]
        pyinfra_patches.before_disconnect(host, lambda: calls.append("first"))  # type: ignore[arg-type]
    finally:
        pyinfra_patches.check = real  # type: ignore[assignment]
    host.disconnect()
    assert calls == ["first", "disconnect"]
