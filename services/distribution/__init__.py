"""The distribution service (see ../shared/DESIGN.md and docs/)."""
