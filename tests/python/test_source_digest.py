"""scripts/source_digest.py: what decides whether scripts/test must compile the package again."""
import importlib.util
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "source_digest.py"


@pytest.fixture(scope="module")
def digest_module():
    spec = importlib.util.spec_from_file_location("source_digest", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tree(tmp_path):
    for relative, text in {"pyproject.toml": "[project]\n", "CMakeLists.txt": "project(x)\n",
                           "cpp/src/network.cpp": "int f();\n", "python/fastmlp/model.py": "x = 1\n",
                           "README.md": "docs\n"}.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_every_build_input_changes_the_digest(digest_module, tree):
    before = digest_module.source_digest(str(tree))
    assert len(before) == 64
    for relative in ("cpp/src/network.cpp", "python/fastmlp/model.py", "pyproject.toml", "CMakeLists.txt"):
        path = tree / relative
        original = path.read_text()
        path.write_text(original + "// changed\n")
        assert digest_module.source_digest(str(tree)) != before, relative
        path.write_text(original)
    assert digest_module.source_digest(str(tree)) == before
    (tree / "cpp" / "src" / "new.cpp").write_text("")
    assert digest_module.source_digest(str(tree)) != before  # a new, even empty, file counts


def test_byproducts_and_docs_do_not_change_it(digest_module, tree):
    before = digest_module.source_digest(str(tree))
    (tree / "python" / "fastmlp" / "__pycache__").mkdir()
    (tree / "python" / "fastmlp" / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"\0")
    (tree / "python" / "fastmlp" / "_engine_avx2.so").write_bytes(b"\0")
    (tree / "README.md").write_text("other docs\n")
    assert digest_module.source_digest(str(tree)) == before


def test_the_build_writes_an_importable_module(digest_module, tree, tmp_path):
    module = tmp_path / "_build_source.py"
    digest_module.main([str(tree), "--write", str(module)])
    namespace = {}
    exec(module.read_text(), namespace)
    assert namespace["SOURCE_DIGEST"] == digest_module.source_digest(str(tree))
