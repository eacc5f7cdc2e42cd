"""The README's Python examples run as written (in order, in one namespace)."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["model"].evaluate(namespace["X_test"], namespace["y_test"])["accuracy"] > 0.95
    assert (tmp_path / "spirals.fmlp").exists() and (tmp_path / "gradient_flow.png").exists()
    assert namespace["clf"].score(namespace["X_test"], namespace["y_test"]) > 0.9
