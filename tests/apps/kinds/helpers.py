"""A sibling module; imports function_app back, as app modules may."""

import function_app  # noqa: F401  (circular on purpose: must resolve to this app's module)


def greeting(city: str) -> str:
    return f"Hello {city}!"
