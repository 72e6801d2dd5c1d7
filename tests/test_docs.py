"""Every check documents itself like a linter rule, and the README lists every check."""

import re
import sys
from pathlib import Path

import pytest

from auditor.registry import Registry

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = list(Registry.from_entry_points())


@pytest.mark.parametrize("plugin", PLUGINS, ids=[p.id for p in PLUGINS])
def test_check_docstring_has_the_rule_sections(plugin):
    doc = plugin.cls.doc()
    assert doc.splitlines()[0].strip(), "summary line"
    for section in ("## What it does", "## Why is this bad?", "## Example"):
        assert section in doc, f"{plugin.id} lacks {section}"
    for row in plugin.cls.option_table():
        assert row["help"], f"option {row['name']} of {plugin.id} has no help"


def test_every_module_in_checks_is_registered_in_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["auditor.checks"]
    modules = {value.split(":")[0] for value in declared.values()}
    on_disk = {f"dataset_auditor_checks.{p.stem}" for p in (ROOT / "checks").glob("*.py") if not p.stem.startswith("_")}
    assert on_disk == modules


def test_every_package_folder_is_in_the_wheel():
    # an editable install finds any folder; a wheel holds only the packages pyproject lists
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "auditor").rglob("*.py")}
    assert on_disk | {"dataset_auditor_checks"} == declared
    assert all((ROOT / package.replace(".", "/") / "__init__.py").is_file() for package in on_disk)


def test_readme_check_table_is_current(capsys):
    from auditor.cli import main

    with pytest.raises(SystemExit):
        main(["checks", "--markdown"])
    table = capsys.readouterr().out.strip()
    readme = (ROOT / "README.md").read_text()
    current = re.search(r"<!-- checks:begin -->\n(.*?)\n<!-- checks:end -->", readme, re.S).group(1).strip()
    assert current == table, "update the table in README.md with `auditor checks --markdown`"


def test_readme_plugin_example_runs_as_written(tmp_path, monkeypatch):
    import importlib
    import sys

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- plugin-example:begin -->", 1)[1].split("<!-- plugin-example:end -->", 1)[0]
    module_code, test_code = [part.split("\n```", 1)[0] for part in block.split("```python\n")[1:]]
    package = tmp_path / "my_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "shouting.py").write_text(module_code)
    (tmp_path / "test_shouting_example.py").write_text(test_code)
    monkeypatch.syspath_prepend(str(tmp_path))
    example = importlib.import_module("test_shouting_example")
    example.test_flags_capitals_only()
    from my_package.shouting import Shouting

    assert Shouting.option_table()[0]["name"] == "min_letters" and Shouting.blocking is False
    for name in ("test_shouting_example", "my_package.shouting", "my_package"):
        sys.modules.pop(name, None)


def test_built_in_checks_use_only_the_public_api_and_the_engine_never_imports_them():
    # a third-party check can do everything a built-in does: built-ins import `auditor` itself only
    import re

    for path in sorted((ROOT / "checks").glob("*.py")):
        private = re.findall(r"^\s*(?:from|import) auditor\.\w+", path.read_text(), flags=re.M)
        assert not private, f"{path.name} imports {private}"
    for path in sorted((ROOT / "auditor").rglob("*.py")):
        assert not re.search(r"^\s*(?:from|import) (?:checks|dataset_auditor_checks)\b", path.read_text(), flags=re.M), path
