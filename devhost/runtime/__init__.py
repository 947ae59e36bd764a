"""Running the app: host settings, the function registry and loader, the invoker, virtual time inside
functions, the built-in HTTP activity, and the engine that drives orchestration turns and activities."""
