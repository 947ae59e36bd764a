"""Instance management: the operations behind the Durable HTTP API and the SDK client, as domain objects."""
