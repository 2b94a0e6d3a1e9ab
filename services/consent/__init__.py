"""The consent service (see ../shared/DESIGN.md and docs/)."""
