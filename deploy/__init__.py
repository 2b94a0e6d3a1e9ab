"""Deployment tooling: the platform declaration (schemas.platform), the local stack (deploy.local),
and the generated compose file and Kubernetes manifests (python -m deploy.generate; docs/operators.md)."""
