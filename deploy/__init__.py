"""Deployment tooling: the platform declaration (deploy.platform), the local stack (deploy.local),
and the generated compose file and Kubernetes manifests (python -m deploy.generate; docs/operators.md)."""
