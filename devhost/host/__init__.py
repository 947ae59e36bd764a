"""The host process: configuration, app, store, engine, service and HTTP server wired together (DevHost)."""
