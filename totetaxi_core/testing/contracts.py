"""Slot contracts: one suite of tests per capability slot, run against every provider.

A slot (``payment_gateway``, ``mailer``, …) has one contract every provider, mock and real,
must pass. The contract is a class of test methods on a :class:`SlotContract` subclass; the
plugin offering an adapter runs it by subclassing with its own ``providers`` and
:meth:`SlotContract.provide`::

    class TestMyGatewayContract(PaymentGatewayContract):
        providers = ("acme",)

        def provide(self, name, request):
            stub = AcmeStub()
            yield Harness(name="acme", gateway=AcmeGateway(stub.url), ...)
            stub.close()

Each test method asks for ``harness`` (what :meth:`provide` yields) and runs once per name in
``providers`` (test ids ``[acme]``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pytest


class SlotContract:
    """Base class of a slot's contract suite (see the module's documentation).

    ``slot`` names the capability slot; ``providers`` the provider names the tests run against;
    :meth:`provide` yields the object under contract (often a small harness: the adapter plus
    whatever the tests need to drive it) and cleans up after the ``yield``.
    """

    slot: ClassVar[str] = ""
    providers: ClassVar[Sequence[str]] = ()

    def provide(self, name: str, request: pytest.FixtureRequest) -> Iterator[Any]:
        """Yield the provider ``name`` under contract; code after the ``yield`` cleans up."""
        raise NotImplementedError(f"{type(self).__name__} must define provide(name, request)")

    @pytest.fixture
    def harness(self, request: pytest.FixtureRequest, slot_provider: str) -> Iterator[Any]:
        """What :meth:`provide` yields for the provider of this test."""
        yield from self.provide(slot_provider, request)
