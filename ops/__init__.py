"""The operator CLI, `advocacy` (or `python -m ops`): the stack, what flows through it,
and dead letters. Every verb has --help."""
