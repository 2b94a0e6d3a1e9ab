"""The metrics service (see ../shared/DESIGN.md and docs/)."""
