"""The user and operator guides name only things that exist: every environment variable the
operator guide lists is read somewhere, and every /v1 path the user guide shows resolves."""

import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[2]
# Read by libraries rather than by Tunery's code: boto3 takes the AWS credentials itself.
READ_BY_LIBRARIES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def sources() -> str:
    files = [
        *ROOT.glob("platform/**/*.py"),
        *ROOT.glob("workers/**/*.py"),
        ROOT / "docker-compose.yml",
        ROOT / "Dockerfile",
    ]
    return "\n".join(path.read_text() for path in files)


def test_every_variable_in_the_operator_guide_is_read_somewhere():
    guide = (ROOT / "docs" / "operator-guide.md").read_text()
    names = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", guide)) - READ_BY_LIBRARIES
    code = sources()
    assert len(names) > 30
    assert not {
        name for name in names if f'"{name}"' not in code and f"${{{name}" not in code and f"{name}=" not in code
    }


@pytest.mark.parametrize("guide", ["user-guide.md", "operator-guide.md"])
def test_every_api_path_in_the_guides_resolves(guide):
    paths = set(re.findall(r"(?:GET|POST|PATCH|DELETE) (/v1/[\w/{}.-]+)", (ROOT / "docs" / guide).read_text()))
    for path in paths:
        try:
            resolve(re.sub(r"\{\w+\}", "x", path))
        except Resolver404:
            pytest.fail(f"{guide}: {path} is not a route")
