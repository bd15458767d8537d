"""Reports and CSV exports: the CRM's own reports and those other plugins publish.

* :mod:`.catalog` — what a report is (:class:`~.catalog.Report`), the date range
  (``?from=&to=``, New York days) and the reports of every plugin (hook
  ``totetaxi_crm_reports``);
* :mod:`.builtin` — the CRM's own: ``bookings``, ``revenue``, ``customers``;
* :mod:`.cells` — a cell as CSV text (formula-injection safe) and as JSON;
* :mod:`.export` — the CSV stream, read with a read-only session of its own;
* :mod:`.api` — ``GET /api/v1/staff/reports``, ``/staff/reports/{name}`` (JSON pages) and
  ``/staff/reports/{name}.csv``;
* :mod:`.console` — ``/console/reports`` and ``/console/reports/{name}``;
* :mod:`.hooks` — the CRM's hook implementations for reports (its reports, the nav entry).
"""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    from . import hooks

    config.add_hookimpls(hooks, name="totetaxi_crm.reports.hooks")
    config.include(".api")
    config.include(".console")
