"""The replay checker: recordings (raw histories and status documents), where they come from, and the check."""
