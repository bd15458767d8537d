"""Rendering staff-edited templates in a sandbox.

A template sees only the variables handed to it (plain JSON values: no model objects), cannot
reach Python internals (``''.__class__`` and the like are refused by Jinja's sandbox), cannot
change anything (immutable sandbox) and cannot make the renderer loop or allocate without bound
(no ``range``; ``*`` and ``**`` are capped; the output is capped). Undefined variables are errors,
so a misspelt variable is refused when the template is saved rather than sent as a blank.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_OUTPUT = 200_000  # characters of one rendered part
MAX_REPEAT = 10_000  # items or characters ``*`` may produce
MAX_POWER = 1_000  # ``**``'s largest exponent


class RenderError(Exception):
    """A template cannot be rendered; ``part`` names which (``subject``, ``text_body``, ...)."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{part}: {message}")
        self.part = part
        self.message = message


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_POWER:
                raise SecurityError("the exponent is too large")
            return operator.pow(left, right)
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int):
                if len(seq) * count > MAX_REPEAT:
                    raise SecurityError("the repeated value is too long")
        return operator.mul(left, right)


def _environment(autoescape: bool) -> _Sandbox:
    env = _Sandbox(autoescape=autoescape, undefined=StrictUndefined, trim_blocks=True,
                   lstrip_blocks=True, keep_trailing_newline=True)
    for name in ("range", "lipsum", "cycler", "joiner"):
        env.globals.pop(name, None)
    return env


_PLAIN = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render_part(part: str, source: str, variables: dict[str, Any]) -> str:
    """Render one part; HTML parts escape every variable. Raises :class:`RenderError`."""
    env = _HTML if part == "html_body" else _PLAIN
    try:
        out = env.from_string(source).render(**variables)
    except SecurityError as exc:
        raise RenderError(part, f"not allowed in a template: {exc}") from None
    except TemplateError as exc:
        raise RenderError(part, str(exc)) from None
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise RenderError(part, f"{type(exc).__name__}: {exc}") from None
    if len(out) > MAX_OUTPUT:
        raise RenderError(part, f"renders more than {MAX_OUTPUT} characters")
    return out


def render(subject: str, text_body: str, html_body: str, variables: dict[str, Any]) -> Rendered:
    """Render a template's three parts with ``variables``. Raises :class:`RenderError`."""
    rendered_subject = " ".join(render_part("subject", subject, variables).split())
    return Rendered(
        subject=rendered_subject,
        text=render_part("text_body", text_body, variables),
        html=render_part("html_body", html_body, variables) if html_body.strip() else "",
    )
