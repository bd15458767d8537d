"""Rendering staff-edited templates in a sandbox.

A template sees only the variables handed to it (plain JSON values: no model objects), cannot
reach Python internals (``''.__class__`` and the like are refused by Jinja's sandbox), cannot
change anything (immutable sandbox) and cannot make the renderer loop or allocate without bound:
no ``range``; every ``{% for %}`` of one render shares a budget of iterations; ``*``, ``**``,
``+`` and ``~`` are capped, as are the sizes filters are given and what they make; string
formatting (``%``, ``str.format``, the ``format`` filter) is not available, since a width can
allocate gigabytes before any cap applies; the output is capped. Undefined variables are errors,
so a misspelt variable is refused when the template is saved rather than sent as a blank.
"""

from __future__ import annotations

import contextvars
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_OUTPUT = 200_000  # characters of one rendered part
MAX_REPEAT = 10_000  # items or characters ``*`` may produce
MAX_POWER = 1_000  # ``**``'s largest exponent
MAX_INT_BITS = 10_000  # the largest integer ``*`` or ``**`` may make (about 3,000 digits)
MAX_ITERATIONS = 20_000  # loop iterations of one render, all loops together
MAX_WIDTH = 1_000  # the largest width or count a filter may be given (center, indent, batch...)
#: Filters whose numeric arguments size what they build.
SIZED_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})


class RenderError(Exception):
    """A template cannot be rendered; ``part`` names which (``subject``, ``text_body``, ...)."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{part}: {message}")
        self.part = part
        self.message = message


def _too_long(value: Any) -> bool:
    return isinstance(value, str | list | tuple) and len(value) > MAX_OUTPUT


class _CappedConcat(CodeGenerator):
    """Compiles ``~`` through :meth:`_Sandbox.capped_concat`: doubling a string with
    ``{% set s = s ~ s %}`` must stop at the output cap, not at the machine's memory."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.capped_concat(")
        super().visit_Concat(node, frame)
        self.write(")")


#: Iterations left to the render running in this context (a one-item list, decremented).
_BUDGET: contextvars.ContextVar[list[int]] = contextvars.ContextVar("render_budget")


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _CappedConcat

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        # Every loop iterates through ``budgeted``: nested loops over modest lists must not
        # keep a worker busy for minutes.
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(
                nodes.EnvironmentAttribute("budgeted"),
                [loop.iter],
                [],
                None,
                None,
                lineno=loop.lineno,
            )
        return tree

    @staticmethod
    def budgeted(iterable: Any) -> Any:
        budget = _BUDGET.get([MAX_ITERATIONS])
        for item in iterable:
            budget[0] -= 1
            if budget[0] < 0:
                raise SecurityError(f"the template loops more than {MAX_ITERATIONS} times")
            yield item

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if super().wrap_str_format(value) is None:
            return None

        def refused(*args: Any, **kwargs: Any) -> str:
            raise SecurityError("str.format is not available: join values with ~")

        return refused

    @staticmethod
    def capped_concat(value: Any) -> Any:
        if _too_long(value):
            raise SecurityError("the joined text is too long")
        return value

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "%":
            if isinstance(left, str):
                raise SecurityError("string formatting with % is not available: use ~")
            return operator.mod(left, right)
        if operator_name == "+":
            result = operator.add(left, right)
            if _too_long(result):
                raise SecurityError("the sum is too long")
            return result
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_POWER:
                raise SecurityError("the exponent is too large")
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and right > 0
                and abs(left) > 1
                and left.bit_length() * right > MAX_INT_BITS
            ):
                raise SecurityError("the power is too large")
            return operator.pow(left, right)
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and left.bit_length() + right.bit_length() > MAX_INT_BITS
        ):
            raise SecurityError("the product is too large")
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int):
                if len(seq) * count > MAX_REPEAT:
                    raise SecurityError("the repeated value is too long")
        return operator.mul(left, right)


def _environment(autoescape: bool) -> _Sandbox:
    env = _Sandbox(
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    for name in ("range", "lipsum", "cycler", "joiner", "dict", "namespace"):
        env.globals.pop(name, None)
    env.filters.pop("format", None)  # %-formatting: a width allocates before any cap
    env.filters = {name: _capped_filter(name, func) for name, func in env.filters.items()}
    return env


def _capped_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` refusing huge widths (``center(10**9)``) and results over the output cap."""

    @functools.wraps(func)  # keeps Jinja's pass_context/pass_environment marks
    def capped(*args: Any, **kwargs: Any) -> Any:
        if name in SIZED_FILTERS and any(
            isinstance(a, int) and not isinstance(a, bool) and a > MAX_WIDTH
            for a in (*args[1:], *kwargs.values())
        ):
            raise SecurityError(f"the {name} filter's size is over {MAX_WIDTH}")
        result = func(*args, **kwargs)
        if _too_long(result):
            raise SecurityError(f"the {name} filter makes too long a value")
        return result

    return capped


_PLAIN = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@functools.lru_cache(maxsize=512)
def _compiled(html: bool, source: str) -> Template:
    # Compiling costs ten times rendering; templates change rarely. Errors are not cached.
    return (_HTML if html else _PLAIN).from_string(source)


def render_part(part: str, source: str, variables: dict[str, Any]) -> str:
    """Render one part; HTML parts escape every variable. Raises :class:`RenderError`."""
    budget = _BUDGET.set([MAX_ITERATIONS])
    try:
        out = _compiled(part == "html_body", source).render(**variables)
    except SecurityError as exc:
        raise RenderError(part, f"not allowed in a template: {exc}") from None
    except TemplateError as exc:
        raise RenderError(part, str(exc)) from None
    except RecursionError:
        raise RenderError(part, "a macro calls itself without end") from None
    except Exception as exc:
        raise RenderError(part, f"{type(exc).__name__}: {exc}") from None
    finally:
        _BUDGET.reset(budget)
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


def _chain(node: nodes.Node) -> list[str] | None:
    """``booking.pickup.city`` (or ``booking['pickup']``) as ``["booking", "pickup", "city"]``."""
    parts: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            parts.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name):
            return [node.name, *reversed(parts)]
        else:
            return None


def check_names(part: str, source: str, variables: dict[str, Any]) -> None:
    """Refuse a variable (or attribute of one) that ``variables`` does not have, anywhere in the
    template — also in branches a sample does not take (``{% if payment.attempts_left == 0 %}``).

    Raises :class:`RenderError` naming the first unknown one; syntax errors are left to
    :func:`render_part`.
    """
    env = _HTML if part == "html_body" else _PLAIN
    try:
        tree = env.parse(source)
    except TemplateError:
        return
    free = meta.find_undeclared_variables(tree)
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in sorted(free):
        if name not in variables and name not in env.globals:
            raise RenderError(part, f"unknown variable '{name}'")
    # Only the longest chain of each expression: ``booking.number`` inside ``booking.number.x``
    # is checked as part of the longer one.
    inner: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        inner.add(id(node.node))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if id(node) in inner:
            continue
        chain = _chain(node)
        if not chain or chain[0] in assigned or chain[0] not in variables:
            continue
        value: Any = variables
        for depth, key in enumerate(chain):
            if not isinstance(value, dict):
                break  # a plain value's methods (``.upper``) are the sandbox's business
            if key not in value:
                raise RenderError(part, f"unknown variable '{'.'.join(chain[: depth + 1])}'")
            value = value[key]
