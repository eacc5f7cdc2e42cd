"""python/fastmlp/_core.pyi types the engine module: every public name of the compiled module
(and of its classes) has a stub, and every stub names something the module has."""

import ast
import pathlib

import pytest

import fastmlp
from fastmlp import _core

STUB = pathlib.Path(fastmlp.__file__).with_name("_core.pyi")


def stub_tree():
    return ast.parse(STUB.read_text(encoding="utf-8"))


def public(names):
    return {name for name in names if not name.startswith("_")}


def stub_names(body):
    """Names a stub body defines: functions, classes and annotated or assigned variables."""
    names = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def stub_class(name):
    classes = {node.name: node for node in stub_tree().body if isinstance(node, ast.ClassDef)}
    node = classes[name]
    names = stub_names(node.body)
    for base in node.bases:  # Network32/64 take their members from the stub's shared base
        if isinstance(base, ast.Name) and base.id in classes:
            names |= stub_names(classes[base.id].body)
    return names


def test_the_stub_ships_beside_the_module():
    assert STUB.is_file()
    assert (STUB.parent / "py.typed").is_file()


def test_every_public_name_of_the_module_has_a_stub_and_no_stub_is_extra():
    assert public(stub_names(stub_tree().body)) == set(_core.__all__)
    compiled = public(dir(_core._engine)) - {"annotations"}
    assert compiled | {"variant"} == set(_core.__all__)
    for name in _core.__all__:
        assert hasattr(_core, name), name


@pytest.mark.parametrize("name", ["CsrMatrix", "LayerSpec", "PassResult", "Network32", "Network64"])
def test_every_public_member_of_each_class_has_a_stub(name):
    assert public(stub_class(name)) == public(dir(getattr(_core, name)))
