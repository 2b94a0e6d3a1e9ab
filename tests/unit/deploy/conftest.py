"""The committed deployment files, parsed: what operators apply is what these tests read."""

import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

from schemas.platform import load_platform

DEPLOY = Path(__file__).parents[3] / "deploy"
K8S = DEPLOY / "k8s"


def load_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@cache  # rendered once per run; tests only read it
def kustomize(overlay: str) -> list[dict]:
    """The overlay as `kubectl apply -k` would send it (kubectl's built-in kustomize, offline)."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    out = subprocess.run([kubectl, "kustomize", str(K8S / "overlays" / overlay)],
                         check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="session")
def platform():
    return load_platform()


@pytest.fixture(scope="session")
def base_docs() -> list[dict]:
    kustomization = load_docs(K8S / "base" / "kustomization.yaml")[0]
    return [doc for name in kustomization["resources"] for doc in load_docs(K8S / "base" / name)]


@pytest.fixture(scope="session")
def compose_file() -> dict:
    return load_docs(DEPLOY / "compose" / "compose.yaml")[0]


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}
