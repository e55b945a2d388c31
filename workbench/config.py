"""Loading YAML files into validated schemas, with errors that name the file, line and key.

Every user-written file (fault catalog, terminal profiles, scenarios, capacity plans) goes
through :func:`load_yaml`, so a typo anywhere gets the same one-line answer:
``profiles/bill_payment.yaml:12: unknown key 'papr_m' in devices.printer; valid keys: ...``.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from workbench.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base for every file schema: unknown keys are refused, values are immutable, and a number
    is finite (YAML's ``.inf`` and ``.nan`` are refused where they are written: ``years: .inf``
    in a capacity plan ran into a traceback deep in the model)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping key, by path."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    """PyYAML's date constructor, with an impossible date (``2027-02-30``) a YAML error at its
    line instead of a bare ``ValueError``."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date: {exc}", node.start_mark
        ) from None


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a file may have (profiles and plans use under 10)."""
MAX_NODES = 100_000
"""Most values a file may hold once its aliases are expanded (a few anchors that refer to each
other many times over would otherwise make validation run for hours)."""


def _compose_lines(root: yaml.Node | None, source: str) -> dict[tuple[str | int, ...], int]:
    """Map each path (tuple of keys and indices) in a YAML document to its 1-based line, and
    refuse a document whose aliases loop back into themselves, that nests deeper than
    :data:`MAX_DEPTH` or that expands to more than :data:`MAX_NODES` values."""
    lines: dict[tuple[str | int, ...], int] = {}
    seen = 0
    # iterative walk (a recursive one would itself run out of stack on hostile input)
    stack: list[tuple[yaml.Node, tuple[str | int, ...], frozenset[int]]] = []
    if root is not None:
        stack.append((root, (), frozenset()))
    while stack:
        node, path, ancestors = stack.pop()
        seen += 1
        line = node.start_mark.line + 1
        if id(node) in ancestors:
            raise ConfigError(f"{source}:{line}: an alias refers to a value that contains it")
        if len(path) > MAX_DEPTH:
            raise ConfigError(f"{source}:{line}: nested deeper than {MAX_DEPTH} levels")
        if seen > MAX_NODES:
            raise ConfigError(
                f"{source}:{line}: more than {MAX_NODES:,} values once aliases are expanded"
            )
        lines.setdefault(path, line)
        inner = ancestors | {id(node)}
        if isinstance(node, yaml.MappingNode):
            _refuse_repeated_keys(node, path, source)
            for key, value in node.value:
                sub = (*path, key.value)
                lines[sub] = key.start_mark.line + 1
                stack.append((value, sub, inner))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, (*path, i), inner))
    return lines


def _refuse_repeated_keys(node: yaml.MappingNode, path: tuple[str | int, ...], source: str) -> None:
    """Refuse a mapping that names one key twice: YAML keeps the last value without a word, so
    a plan's second ``terminals:`` or a scenario's second ``timeline:`` silently replaced the
    first (a merge key ``<<`` may repeat; it is YAML's own)."""
    first: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.value == "<<":
            continue
        line, name = key.start_mark.line + 1, (key.tag, key.value)
        if name in first:
            where = f" in {'.'.join(map(str, path))}" if path else ""
            raise ConfigError(
                f"{source}:{line}: key {key.value!r} written twice{where} "
                f"(first at line {first[name]}); YAML would keep only the last"
            )
        first[name] = line


def key_lines(text: str, source: str = "<string>") -> dict[tuple[str | int, ...], int]:
    """Map each path (tuple of keys and indices) in a YAML document to its 1-based line, so that
    a check made after validation can still name the line it is about (same limits as
    :func:`parse_yaml`)."""
    return _compose_lines(yaml.compose(text, Loader=_LineLoader), source)


def _fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The valid keys of the sub-model at ``loc`` (best effort; empty when unknown)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _inner_model(fields[part].annotation)
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def _inner_model(annotation: Any) -> Any:
    """Find a BaseModel inside an annotation such as ``list[X]``, ``dict[str, X]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def line_of(loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int | None:
    """The line of ``loc``, or of the nearest enclosing key the file has."""
    return next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)


_KINDS = {list: "a list", str: "a line of text", int: "a number", float: "a number", bool: "a bool"}


def _whole_file(errors: list[Any], source: str, model: type[BaseModel]) -> str | None:
    """The one thing to say when the file is not a mapping of keys at all (a list, a line of
    text) or is empty: pydantic says "Input should be a valid dictionary or instance of
    Scenario", or "Field required" once for each key the schema needs."""
    needed = [name for name, f in model.model_fields.items() if f.is_required()]
    keys = ", ".join(needed or list(model.model_fields)[:6])
    top = [e for e in errors if not e["loc"]]
    if top and top[0]["type"] in ("model_type", "dict_type", "model_attributes_type"):
        kind = _KINDS.get(type(top[0]["input"]), "no mapping")
        return f"{source}:1: the file holds {kind}, not a mapping of keys ({keys})"
    if all(e["type"] == "missing" and len(e["loc"]) == 1 and e["input"] == {} for e in errors):
        return f"{source}: the file is empty; it needs {keys}"
    return None


def _described(
    error: Any, source: str, lines: dict[tuple[str | int, ...], int], model: type[BaseModel]
) -> tuple[int | None, str]:
    """One pydantic error as its line and ``source:line: where: what``."""
    loc = tuple(error["loc"])
    unknown = error["type"] == "extra_forbidden"
    where = ".".join(str(p) for p in (loc[:-1] if unknown else loc))
    msg = str(error["msg"]).removeprefix("Value error, ")
    if not loc:  # a whole-document check may name where it looked: "timeline.0: ..."
        named, sep, rest = msg.partition(": ")
        path = tuple(int(p) if p.isdigit() else p for p in named.split("."))
        if sep and " " not in named and path in lines:
            loc, where, msg = path, named, rest
    line = line_of(loc, lines)
    prefix = f"{source}:{line}" if line else source
    if unknown:
        valid = _fields_at(model, loc[:-1])
        scope = f" in {where}" if where else ""
        hint = f"; valid keys: {', '.join(valid)}" if valid else ""
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        guess = f"; did you mean {close[0]!r}?" if close else ""
        return line, f"{prefix}: unknown key {loc[-1]!r}{scope}{hint}{guess}"
    return line, f"{prefix}: {where or 'document'}: {msg}"


def validation_problems(
    err: ValidationError,
    source: str,
    lines: dict[tuple[str | int, ...], int],
    model: type[BaseModel],
) -> list[tuple[int | None, str]]:
    """Every pydantic error as its line and ``source:line: what is wrong at where``, in the
    file's order. A required key reported missing where a key that is not valid was written in
    the same place, and is its close match, is the typo's shadow: only the typo is said."""
    errors = err.errors()
    if (whole := _whole_file(errors, source, model)) is not None:
        return [(1, whole)]
    typos = {
        (tuple(e["loc"][:-1]), close[0])
        for e in errors
        if e["type"] == "extra_forbidden"
        and (
            close := difflib.get_close_matches(
                str(e["loc"][-1]), _fields_at(model, tuple(e["loc"][:-1])), n=1
            )
        )
    }
    said = [
        _described(e, source, lines, model)
        for e in errors
        if not (e["type"] == "missing" and (tuple(e["loc"][:-1]), e["loc"][-1]) in typos)
    ]
    return sorted(said, key=lambda p: p[0] or 0)  # stable: pydantic's order within a line


def describe_validation_error(
    err: ValidationError,
    source: str,
    lines: dict[tuple[str | int, ...], int],
    model: type[BaseModel],
) -> str:
    """Render the first pydantic error as ``source:line: what is wrong at where``, with how many
    more there are (:func:`validation_problems` says each).

    An unknown key is named before anything else: a misspelt required key is then reported as
    the typo it is, not as the missing field it caused (which is not counted either)."""
    if (whole := _whole_file(err.errors(), source, model)) is not None:
        return whole
    errors = sorted(err.errors(), key=lambda e: e["type"] != "extra_forbidden")
    _, first = _described(errors[0], source, lines, model)
    more = len(validation_problems(err, source, lines, model)) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{first}{tail}"


def _flow_depth(text: str) -> tuple[int, int]:
    """The deepest ``[``/``{`` nesting outside quotes and its line: PyYAML's scanner takes time
    quadratic in that depth, so a hostile file is refused before it is scanned."""
    depth = deepest = line = at = 0
    quote = ""
    for ch in text:
        if ch == "\n":
            line += 1
            quote = "" if quote == "'" else quote
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, line + 1
        elif ch in "]}" and depth:
            depth -= 1
    return deepest, at


def read_yaml(text: str, source: str = "<string>") -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """The data of YAML text (``{}`` for an empty document) and the line of each of its keys
    (:func:`key_lines`), before any schema; a file that is not YAML is a :class:`ConfigError`
    naming source and line."""
    deepest, line_no = _flow_depth(text)
    if deepest > MAX_DEPTH:
        raise ConfigError(f"{source}:{line_no}: nested deeper than {MAX_DEPTH} levels")
    loader = _LineLoader(text)
    try:
        root = loader.get_single_node()
        lines = _compose_lines(root, source)
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}{line}: not valid YAML: {problem}") from None
    except RecursionError:  # the parser itself recurses once per level of nesting
        raise ConfigError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    return ({} if data is None else data), lines


def parse_yaml(text: str, model: type[M], source: str = "<string>") -> M:
    """Validate YAML text against ``model``; raise :class:`ConfigError` naming source and line."""
    data, lines = read_yaml(text, source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source, lines, model)) from None


def load_yaml(path: str | Path, model: type[M]) -> M:
    """Read and validate a YAML file; every problem is a one-line :class:`ConfigError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{p}:{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    return parse_yaml(text, model, str(p))


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$")


def parse_duration(value: object) -> float:
    """Seconds from a number (seconds) or a string such as ``90s``, ``10m``, ``2h``, ``3d``."""
    if isinstance(value, bool):
        raise ValueError(f"duration(={value!r}) must be a number of seconds or like '10m'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"duration(={value}) must be >= 0")
        return float(value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return float(m.group(1)) * _UNITS[m.group(2) or "s"]
    raise ValueError(
        f"duration(={value!r}) must be a number of seconds or like '90s', '10m', '2h', '3d'"
    )


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A pydantic field type for durations written as seconds or ``10m``/``2h``/``3d``."""
