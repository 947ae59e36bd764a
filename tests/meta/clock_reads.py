"""Find the places in Python source that read the system clock, by reading the source (``ast``), not by running it.

What counts as a read: ``time.time``/``time_ns``/``monotonic``/``perf_counter``/``process_time`` (and their ``_ns``
forms, ``clock_gettime``), ``time.localtime``/``gmtime``/``ctime`` called without a timestamp, the same names
imported with ``from time import ...``, ``datetime.now``/``utcnow``/``today`` and ``date.today`` (however
``datetime`` was imported or renamed), and an event loop's ``.time()`` (``loop.time()``, ``self._loop.time()``,
``asyncio.get_running_loop().time()``). A reference counts as well as a call: ``default=time.monotonic`` reads the
clock later. Assigning to ``time.time`` (as the time patch does) is not a read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TIME_READERS = {
    "time",
    "time_ns",
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "perf_counter_ns",
    "process_time",
    "process_time_ns",
    "clock_gettime",
    "clock_gettime_ns",
    "thread_time",
    "thread_time_ns",
}
TIME_READERS_WITHOUT_ARGUMENT = {"localtime", "gmtime", "ctime", "asctime", "strftime"}
DATETIME_READERS = {"now", "utcnow", "today"}
LOOP_FACTORIES = {"get_running_loop", "get_event_loop", "new_event_loop"}


@dataclass(frozen=True)
class ClockRead:
    path: str
    line: int
    expression: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.expression}"


class _Finder(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.found: list[ClockRead] = []
        self.time_modules: set[str] = set()  # names bound to the time module
        self.datetime_modules: set[str] = set()  # names bound to the datetime module
        self.clock_classes: set[str] = set()  # names bound to datetime.datetime or datetime.date
        self.imported_readers: dict[str, str] = {}  # local name -> time function it is bound to
        self._calls_without_arguments: set[int] = set()

    def _report(self, node: ast.AST) -> None:
        self.found.append(ClockRead(self.path, getattr(node, "lineno", 0), ast.unparse(node)))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "time":
                self.time_modules.add(alias.asname or "time")
            elif alias.name == "datetime":
                self.datetime_modules.add(alias.asname or "datetime")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            local = alias.asname or alias.name
            if node.module == "time" and alias.name in TIME_READERS:
                self.imported_readers[local] = alias.name
                self._report(node)
            elif node.module == "datetime" and alias.name in ("datetime", "date"):
                self.clock_classes.add(local)

    def visit_Call(self, node: ast.Call) -> None:
        if not node.args and not node.keywords:
            self._calls_without_arguments.add(id(node.func))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load) and self._reads_clock(node):
            self._report(node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and node.id in self.imported_readers:
            self._report(node)

    def _reads_clock(self, node: ast.Attribute) -> bool:
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in self.time_modules:
            return node.attr in TIME_READERS or (
                node.attr in TIME_READERS_WITHOUT_ARGUMENT and id(node) in self._calls_without_arguments
            )
        if node.attr in DATETIME_READERS and self._is_clock_class(owner):
            return True
        return node.attr == "time" and id(node) in self._calls_without_arguments and self._is_loop(owner)

    def _is_clock_class(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.clock_classes
        return (
            isinstance(node, ast.Attribute)
            and node.attr in ("datetime", "date")
            and isinstance(node.value, ast.Name)
            and node.value.id in self.datetime_modules
        )

    def _is_loop(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            return name in LOOP_FACTORIES
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
        return "loop" in name.lower()


def clock_reads_in_source(source: str, path: str = "<source>") -> list[ClockRead]:
    tree = ast.parse(source, filename=path)
    finder = _Finder(path)
    # Imports first, wherever they are, so a read above a function-level import is still recognised.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            finder.visit_Import(node)
    finder.visit(tree)
    return finder.found


def python_files(root: Path, *folders: str) -> Iterator[Path]:
    for folder in folders:
        base = root / folder
        if base.is_file():
            yield base
            continue
        yield from sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def clock_reads(root: Path, *folders: str) -> list[ClockRead]:
    found: list[ClockRead] = []
    for file in python_files(root, *folders):
        found.extend(clock_reads_in_source(file.read_text(encoding="utf-8"), file.relative_to(root).as_posix()))
    return found
