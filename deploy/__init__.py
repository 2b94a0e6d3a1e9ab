"""Deployment tooling: the platform declaration (deploy.platform) and the local stack (deploy.local)."""
