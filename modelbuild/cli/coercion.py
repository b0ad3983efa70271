"""Option values coerced without importing pydantic where typer's own result needs no pydantic.

typer 0.29 coerces every parameter of the invoked command through a pydantic `TypeAdapter`, built
before it looks at the value. Importing pydantic and building ~20 adapters costs ~100 ms (more than
all of `modelbuild --help`) on every command, although most values are absent (None) and the rest
are plain text for `str` or `Path` options or number defaults. `defer_coercion` gives each parameter a runtime coercion
that returns those values exactly as typer's would (typer's own code for None and for path checks)
and builds typer's adapter only for anything else (numbers, choices, lists, odd text); an option's
own `parser` is called as typer's adapter would call it.
tests/cli/test_coercion.py checks the results against typer's own coercion value by value.

It hooks typer internals (`_TyperParameter._runtime_param`, `typer._coercion`); when they are not
what it expects, it leaves the parameters alone and typer coerces as it always does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_origin

try:
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_path
except ImportError:  # another typer: keep its own coercion
    RuntimeParam = None  # type: ignore[assignment,misc]

_NOT_PLAIN = object()


def defer_coercion(command: Any) -> None:
    """Give every parameter of `command` and of its subcommands, recursively, the deferred coercion
    (their help options too, which click creates when a command parses its arguments)."""
    if RuntimeParam is None:
        return
    for param in command.params:
        _defer(param)
    get_help_option = command.get_help_option

    def help_option_deferred(ctx: Any) -> Any:
        option = get_help_option(ctx)
        if option is not None:
            _defer(option)
        return option

    command.get_help_option = help_option_deferred
    for subcommand in getattr(command, "commands", {}).values():
        defer_coercion(subcommand)


def _defer(param: Any) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and getattr(param, "_runtime_param", False) is None:
        param._runtime_param = DeferredCoercion(descriptor.parameter_info, descriptor.annotation)


if RuntimeParam is not None:

    class DeferredCoercion(RuntimeParam):
        """typer's coercion of one parameter, its pydantic adapter built only when a value needs it.

        `RuntimeParam.coerce` (typer's) still handles absent values; only present ones arrive here.
        It adds no field to typer's frozen dataclass, so it needs no dataclass code of its own (which
        `--help` would pay for)."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            plain = _plain_value(value, param, ctx)
            if plain is not _NOT_PLAIN:
                return plain
            param._runtime_param = build_runtime_param(param.type_descriptor)
            return param._runtime_param._coerce_value(value, param=param, ctx=ctx)


def _plain_value(value: Any, param: Any, ctx: Any) -> Any:
    """typer's result for text given to a plain `str` or `Path` option, or for a number default of a number
    option within its bounds, or _NOT_PLAIN for anything else.

    For such values typer's adapters come down to `str(value)` and `Path(value)` (then its path checks),
    or the number itself."""
    descriptor = param.type_descriptor
    info = descriptor.parameter_info
    if descriptor.is_file:
        return _NOT_PLAIN
    if info.parser is not None:  # typer's adapter for a parser is `parser(value)` and nothing else
        leaf = get_origin(descriptor.annotation) not in (list, tuple)
        return info.parser(value) if leaf and type(value) is str else _NOT_PLAIN
    if descriptor.annotation in (int, float) and type(value) is descriptor.annotation:
        within = (info.min is None or value >= info.min) and (info.max is None or value <= info.max)
        return value if within else _NOT_PLAIN
    if type(value) is not str:
        return _NOT_PLAIN
    if descriptor.annotation is str:
        return value
    if descriptor.annotation is Path and info.path_type is None:
        return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
    return _NOT_PLAIN
