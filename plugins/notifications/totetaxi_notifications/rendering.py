"""Rendering staff-edited templates in a sandbox.

A template sees only the variables handed to it (plain JSON values: no model objects), cannot
reach Python internals (``''.__class__`` and the like are refused by Jinja's sandbox), cannot
change anything (immutable sandbox) and cannot make the renderer loop or allocate without bound:
no ``range``; every ``{% for %}`` of one render shares a budget of iterations; ``*``, ``**``,
``+`` and ``~`` are capped, as are the sizes filters are given and what they make; string
formatting (``%``, ``str.format``, the ``format`` filter) is not available, since a width can
allocate gigabytes before any cap applies; the output is capped. Methods of plain values are an
allow-list: the ones that cannot make a value much larger than their input (``upper``, ``split``,
``get``...) and the ones whose result size is known from their arguments, checked before they run
(``ljust``, ``center``, ``zfill``, ``join``, ``replace``, ``expandtabs``; the ``join`` and
``replace`` filters alike). Every render has a deadline, checked at each call, loop iteration and
operator, so what no size cap sees (a macro that calls itself twice) still stops. Undefined
variables are errors, so a misspelt variable is refused when the template is saved rather than
sent as a blank.
"""

from __future__ import annotations

import contextvars
import functools
import operator
import time
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
MAX_SECONDS = 1.0  # wall time of one render
#: Filters whose numeric arguments size what they build.
SIZED_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})
#: Methods a template may call on plain values: none makes a result much larger than its input.
SAFE_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        "capitalize casefold count endswith find index isalnum isalpha isascii isdecimal isdigit"
        " isidentifier islower isnumeric isprintable isspace istitle isupper lower lstrip"
        " partition removeprefix removesuffix rfind rindex rpartition rsplit rstrip split"
        " splitlines startswith strip swapcase title upper".split()
    ),
    dict: frozenset({"get", "items", "keys", "values"}),
    list: frozenset({"count", "index"}),
    tuple: frozenset({"count", "index"}),
    int: frozenset({"bit_length", "is_integer"}),
    float: frozenset({"is_integer"}),
}
#: Methods (and filters of the same name) whose result size is checked before they run.
SIZED_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "join", "replace"})


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


class _Budget:
    """What the render running in this context may still spend."""

    __slots__ = ("deadline", "iterations")

    def __init__(self) -> None:
        self.iterations = MAX_ITERATIONS
        self.deadline = time.monotonic() + MAX_SECONDS

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise SecurityError(f"the template takes longer than {MAX_SECONDS:g} s to render")


_BUDGET: contextvars.ContextVar[_Budget] = contextvars.ContextVar("render_budget")


def _budget() -> _Budget:
    budget = _BUDGET.get(None)
    if budget is None:  # rendered outside render_part (a test, a shell): a budget of its own
        budget = _Budget()
        _BUDGET.set(budget)
    return budget


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes) else len(str(value))


def predicted_size(name: str, value: Any, args: tuple[Any, ...]) -> int:
    """An upper bound of the length of ``value.<name>(*args)`` (or ``value|<name>(*args)``),
    computed without building it; 0 when ``name`` is not a sized method."""
    if not isinstance(value, str | bytes | list | tuple):
        return 0
    size = len(value)
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else 0
        return max(size, width) if isinstance(width, int) else size
    if name == "expandtabs":
        tab = args[0] if args else 8
        return size * max(tab, 1) if isinstance(tab, int) else size
    if name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        if not isinstance(old, str | bytes) or not isinstance(new, str | bytes):
            return size
        if not isinstance(value, str | bytes):
            return size
        count = value.count(old) if old else size + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            count = min(count, args[2])
        return size + count * max(len(new) - len(old), 0)
    return 0


def _check_size(name: str, value: Any, args: tuple[Any, ...]) -> None:
    if predicted_size(name, value, args) > MAX_OUTPUT:
        raise SecurityError(f"{name} would make a value longer than {MAX_OUTPUT} characters")


def _check_join(separator: Any, items: list[Any]) -> None:
    total = sum(_length(item) for item in items) + _length(separator) * max(len(items) - 1, 0)
    if total > MAX_OUTPUT:
        raise SecurityError(f"join would make a value longer than {MAX_OUTPUT} characters")


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
        budget = _budget()
        for item in iterable:
            budget.iterations -= 1
            if budget.iterations < 0:
                raise SecurityError(f"the template loops more than {MAX_ITERATIONS} times")
            budget.tick()
            yield item

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if not callable(value):
            return True
        for kind in type(obj).__mro__:
            if kind in SAFE_METHODS:
                return attr in SAFE_METHODS[kind] or (
                    kind in (str, bytes) and attr in SIZED_METHODS
                )
        return True  # Jinja's own objects (``loop.cycle``, a macro's ``caller``)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _budget().tick()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str | bytes) and name in SIZED_METHODS:
            if name == "join":
                items = list(args[0]) if args else []
                _check_join(owner, items)
                args = (items, *args[1:])
            else:
                _check_size(name, owner, tuple(kwargs.values()) or args)
        return super().call(__context, __obj, *args, **kwargs)

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
        _budget().tick()
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
        _budget().tick()
        # Jinja passes the context or environment first to the filters marked so.
        marked = getattr(func, "jinja_pass_arg", None) is not None
        value_at = 1 if marked else 0
        if name == "join" and len(args) > value_at:
            items = list(args[value_at])
            separator = args[value_at + 1] if len(args) > value_at + 1 else kwargs.get("d", "")
            _check_join(separator, items)
            args = (*args[:value_at], items, *args[value_at + 1 :])
        elif name == "replace" and len(args) > value_at:
            given = (
                *args[value_at + 1 :],
                *(kwargs[k] for k in ("old", "new", "count") if k in kwargs),
            )
            _check_size(name, str(args[value_at]), given)
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
    budget = _BUDGET.set(_Budget())
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
        free = meta.find_undeclared_variables(tree)  # compiles: an unknown filter fails here
    except TemplateError:
        return
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
