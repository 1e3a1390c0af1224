"""Strict, typed configuration objects built from TOML tables.

A configuration class is a frozen dataclass deriving from :class:`Config`.
Each field declares its unit, range and help text with :func:`param`::

    @dataclass(frozen=True)
    class Ramp(Config):
        ramp_up_ms: float = param(100.0, unit="ms", lo=0, hi=2000, doc="rise time")

Range checks run in ``__post_init__``, so an object built in code is checked
exactly like one read from a file. :func:`from_mapping` converts a raw TOML
table into such an object: unknown keys are errors, and every error names the
source file, the field path, the bad value and the allowed range or type.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal, Mapping, TypeVar

from fes_sim.errors import ConfigError

C = TypeVar("C", bound="Config")

_MISSING = dataclasses.MISSING


def param(
    default: Any = _MISSING,
    *,
    unit: str = "",
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    doc: str = "",
    factory: Any = _MISSING,
) -> Any:
    """Declare a configuration field with unit, inclusive range and help text.

    ``lo_open=True`` makes the lower bound exclusive (a value must be > lo).
    ``factory`` builds a default for nested configuration tables.
    """
    meta = {"unit": unit, "lo": lo, "hi": hi, "lo_open": lo_open, "doc": doc}
    if factory is not _MISSING:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def range_text(lo: float | None, hi: float | None, unit: str = "", lo_open: bool = False) -> str:
    """Human-readable inclusive range, e.g. ``0 <= value <= 100 mA`` (``lo_open``: ``0 < value``).

    Integer bounds are written out in full (a seed's 4294967295), others in ``g`` format.
    """

    def num(x: float) -> str:
        return str(x) if isinstance(x, int) else f"{x:g}"

    op = "<" if lo_open else "<="
    if lo is not None and hi is not None:
        text = f"{num(lo)} {op} value <= {num(hi)}"
    elif lo is not None:
        text = f"value {'>' if lo_open else '>='} {num(lo)}"
    elif hi is not None:
        text = f"value <= {num(hi)}"
    else:
        return ""
    return f"{text} {unit}".rstrip()


def describe_range(f: dataclasses.Field) -> str:
    """Human-readable allowed range of a field, e.g. ``0 <= value <= 100 mA``."""
    m = f.metadata
    return range_text(m.get("lo"), m.get("hi"), m.get("unit", ""), bool(m.get("lo_open")))


class Config:
    """Mixin for frozen dataclasses: checks every field's range on creation.

    Subclasses may override :meth:`check` for rules that involve several
    fields; it raises :class:`ConfigError` naming the field.
    """

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if not math.isfinite(value):
                raise ConfigError(f"{f.name}: {value!r} is not a finite number")
            lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
            too_low = lo is not None and (value <= lo if f.metadata.get("lo_open") else value < lo)
            too_high = hi is not None and value > hi
            if too_low or too_high:
                raise ConfigError(f"{f.name}: {value!r} is out of range ({describe_range(f)})")
        self.check()

    def check(self) -> None:
        """Cross-field rules; the default has none."""

    def replace(self: C, **changes: Any) -> C:
        """Return a copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return "table"
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, where: str) -> Any:
    """Convert one TOML value to the annotated type, or raise ConfigError."""
    origin = typing.get_origin(tp)
    if tp is type(None):
        if value is None:
            return None
    elif origin is Literal:
        if value in typing.get_args(tp) and type(value) is type(typing.get_args(tp)[0]):
            return value
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            try:
                return _convert(arg, value, where)
            except ConfigError:
                continue
    elif origin is tuple:
        if isinstance(value, (list, tuple)):
            (item_tp, *_rest) = typing.get_args(tp)
            return tuple(_convert(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value))
    elif dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        return _from_table(tp, value, where)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is str:
        if isinstance(value, str):
            return value
    else:  # pragma: no cover - a programming error in a Config class
        raise TypeError(f"unsupported config field type {tp!r}")
    raise ConfigError(f"{where}: {value!r} is not {_type_name(tp)}")


def _from_table(cls: type[C], data: Any, where: str) -> C:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or 'top level'}: {data!r} is not a table")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.init}
    prefix = f"{where}." if where else ""
    for key in data:
        if key not in known:
            allowed = ", ".join(sorted(known))
            raise ConfigError(f"{prefix}{key}: unknown key (allowed: {allowed})")
    kwargs = {name: _convert(hints[name], data[name], prefix + name) for name in known if name in data}
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{prefix}{exc}") from None


def from_mapping(cls: type[C], data: Mapping[str, Any], source: str = "<config>") -> C:
    """Build a checked ``cls`` from a raw table; errors start with ``source``."""
    try:
        return _from_table(cls, data, "")
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning I/O, encoding and syntax errors into ConfigError.

    A file without a single setting (empty, or comments only) is an error too: it
    would silently stand for the built-in defaults.
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a directory, not a TOML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    if not data:
        raise ConfigError(f"{p}: no settings (the file is empty or only comments)")
    return data


def load_toml(cls: type[C], path: str | Path, table: str | None = None) -> C:
    """Read ``path`` (optionally one top-level ``table`` of it) into ``cls``."""
    data = read_toml(path)
    if table is not None:
        if table not in data:
            raise ConfigError(f"{path}: missing table [{table}]")
        data = data[table]
        source = f"{path}: [{table}]"
    else:
        source = str(path)
    return from_mapping(cls, data, source)


def to_mapping(obj: Config) -> dict[str, Any]:
    """Turn a config object back into plain tables (inverse of from_mapping)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = to_mapping(value)  # type: ignore[arg-type]
        elif isinstance(value, tuple):
            out[f.name] = [to_mapping(v) if dataclasses.is_dataclass(v) else v for v in value]
        elif value is not None:
            out[f.name] = value
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            items = ", ".join("{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in d.items()) + " }" for d in value)
            return f"[{items}]"
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _field_comment(cls: Any, name: str) -> str:
    for f in dataclasses.fields(cls):
        if f.name == name:
            parts = [f.metadata.get("doc", ""), describe_range(f)]
            text = "; ".join(p for p in parts if p)
            return f"  # {text}" if text else ""
    return ""


def to_toml(obj: Config, header: str = "") -> str:
    """Write a config object as commented TOML that :func:`load_toml` reads back."""
    lines: list[str] = [f"# {line}" for line in header.splitlines()]

    def emit(o: Any, table: str) -> None:
        plain, nested = [], []
        for f in dataclasses.fields(o):
            value = getattr(o, f.name)
            (nested if dataclasses.is_dataclass(value) else plain).append(f.name)
        if table:
            lines.append("")
            lines.append(f"[{table}]")
        for name in plain:
            value = getattr(o, name)
            if value is None:
                continue
            raw = to_mapping(o)[name] if isinstance(value, tuple) else value
            lines.append(f"{name} = {_toml_value(raw)}{_field_comment(type(o), name)}")
        for name in nested:
            emit(getattr(o, name), f"{table}.{name}" if table else name)

    emit(obj, "")
    return "\n".join(lines).lstrip("\n") + "\n"
