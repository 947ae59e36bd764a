"""Same module name as tests/apps/kinds/helpers.py, different behaviour."""


def greeting(city: str) -> str:
    return f"Bonjour {city}!"
