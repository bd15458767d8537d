"""The manifest a plugin module exposes as ``manifest`` (DESIGN §2)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..settings import Setting

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: ``seed(dbsession, settings)``: loads a plugin's initial data, called once, at install.
SeedFunction = Callable[["Session", dict[str, Any]], None]


@dataclass(frozen=True)
class Manifest:
    """What a plugin is and what it needs.

    - ``name``: the plugin name; equals its entry point name in group ``totetaxi.plugins`` and is
      the prefix of its settings keys and the label of its Alembic branch.
    - ``version``: the plugin's version; a change is applied by ``totetaxi migrate``.
    - ``depends``: plugins that must be enabled with it (they are enabled automatically).
    - ``provides`` / ``requires``: capability slots (``payment_gateway``, ``mailer``, ...).
      A slot has at most one enabled provider; a required slot must have one.
    - ``settings``: every setting the plugin reads, with defaults and validation.
    - ``core``: the core versions it works with, as a specifier (``">=1.0,<2"``).
    - ``auto_install``: a glue plugin enabled automatically once all its ``depends`` are.
    - ``development_only``: mock adapters; refused when ``totetaxi.environment = production``.
    - ``migrations``: its Alembic versions folder as ``"package:path"`` (or an absolute path),
      or ``None`` for a plugin without tables.
    - ``seed``: a :data:`SeedFunction` run once when the plugin is first installed.
    - ``permissions``: the permissions its views use, each granted to a staff role
      (``viewer``, ``staff``, ``admin``, including the roles above it) or ``customer``:
      ``{"refunds.approve": "admin"}``.
    """

    name: str
    version: str
    summary: str = ""
    depends: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()
    core: str = ">=1.0,<2"
    auto_install: bool = False
    development_only: bool = False
    migrations: str | None = None
    seed: SeedFunction | None = field(default=None, compare=False)
    permissions: dict[str, str] = field(default_factory=dict, compare=False)
