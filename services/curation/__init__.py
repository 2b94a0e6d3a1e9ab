"""The curation service (see ../shared/DESIGN.md and docs/)."""
