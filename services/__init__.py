"""The platform's services, one OS process each, and the runtime they share."""
