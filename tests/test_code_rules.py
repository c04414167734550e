"""The code rules of docs/architecture.md, checked by the tools made for them: ruff (lint and
format), import-linter (the import contracts in pyproject.toml), and what no linter sees — that
the web side loads no deep-learning library when Django starts."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_no_lint_error():
    result = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_code_is_formatted():
    result = run(str(BIN / "ruff"), "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, "run `bin/lint --fix`:\n" + result.stdout[-4000:]


def test_the_import_contracts_hold():
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "0 broken" in result.stdout


def test_the_web_side_loads_no_deep_learning_library_at_import():
    # Every module of the Django project imported in a fresh interpreter, as a web process would.
    code = """
import importlib, pkgutil, sys
import django
django.setup()
import tunery
for module in pkgutil.walk_packages(tunery.__path__, "tunery."):
    if ".migrations." not in module.name and not module.name.endswith(".asgi"):
        importlib.import_module(module.name)
print(sorted(name for name in ("torch", "transformers", "peft") if name in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_ml_pipeline_and_the_engine_import_without_django():
    # A fresh interpreter with no Django settings, as on a GPU host that runs only the engine.
    code = """
import importlib, pkgutil, sys
import workers
for module in pkgutil.walk_packages(workers.__path__, "workers."):
    if module.name != "workers.engine.__main__":
        importlib.import_module(module.name)
print(sorted(name for name in ("django", "tunery", "celery") if name in sys.modules))
"""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], cwd="/", env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_no_source_root_is_added_at_run_time():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("platform", "workers", "bench", "bin")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "sys.path" in line
    ]
    offenders += ["manage.py"] if "sys.path" in (ROOT / "manage.py").read_text() else []
    assert offenders == [], "declare source roots in pyproject.toml, not at run time"
