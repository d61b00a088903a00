"""What every stage's commands share: turning bad-input errors into one clear line and exit code 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from corpora.errors import InputError

P = ParamSpec("P")
R = TypeVar("R")


def fail_on_input_error(command: Callable[P, R]) -> Callable[P, R]:
    """Wrap a typer command so InputError / FileNotFoundError print ``error: ...`` and exit with status 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (InputError, FileNotFoundError) as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=2) from error

    return wrapper
