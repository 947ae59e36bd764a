"""Reading the repo's Bicep with ``pycep-parser`` (the Bicep compiler itself cannot be installed here).

pycep turns a file into JSON: ``parameters``, ``variables``, ``resources`` (nested ones as ``parent__child``),
``modules`` and ``outputs``; an identifier and a string literal both come out as plain strings, functions as
``{"function": {"type": ..., "parameters": {...}}}`` and a conditional resource as ``{"condition", "config"}``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@functools.cache
def _parser() -> BicepParser:
    return BicepParser(cache=False)  # building the grammar is the slow part: once per session


@functools.cache
def parse(path: Path) -> dict[str, Any]:
    return dict(_parser().parse(file_path=path))


@dataclass(frozen=True)
class Resource:
    file: Path
    symbol: str
    type: str
    api_version: str
    existing: bool
    config: Mapping[str, Any]
    variables: Mapping[str, Any]

    def resolve(self, value: Any) -> Any:
        """A variable's value for an identifier naming one (one level), else the value itself."""
        if isinstance(value, str) and value in self.variables:
            return self.variables[value]["value"]
        return value


def resources() -> Iterator[Resource]:
    for path in bicep_files():
        document = parse(path)
        variables = document.get("variables") or {}
        for symbol, resource in (document.get("resources") or {}).items():
            config = resource["config"]
            if "condition" in config and "config" in config:  # `= if (...) {...}`
                config = config["config"]
            yield Resource(path, symbol, resource["type"], resource["api_version"], resource["existing"], config, variables)


def deployed(kind: str) -> list[Resource]:
    """The resources of one type that a deployment creates (not ``existing`` references)."""
    return [r for r in resources() if r.type.lower() == kind.lower() and not r.existing]


def function_call(value: Any) -> tuple[str, Mapping[str, Any]]:
    assert isinstance(value, dict) and "function" in value, f"not a function call: {value!r}"
    return value["function"]["type"], value["function"]["parameters"]
