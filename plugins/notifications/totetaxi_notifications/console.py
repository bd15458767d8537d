"""The notifications console: the email log, one email's page, and the template editor.

* ``/console/notifications`` (every staff role, ``Permission.STAFF_READ``): every email, newest
  first, in keyset pages of at most :data:`PAGE_SIZE`, narrowed by booking, recipient, status and
  template, under the counts by status.
* ``/console/notifications/{id}``: what was sent (the HTML in a sandboxed iframe), the attempts
  and provider events, and for a failed or held email a "Resend" form; when the recipient's
  address is held, a "Release address" form. Both take the plugin's ``notifications.resend``
  permission (staff and admins, in the manifest); a viewer sees no forms and a POST of theirs is
  403. The resend form carries a one-time form token: a double click resends once.
* ``/console/notifications/templates`` and ``.../templates/{key}``: the templates and the
  editor, with a live preview (``.../preview``, JSON, any staff role: previewing changes
  nothing). Saving takes ``notifications.edit``; the three parts must render with the preview's
  variables first, so a syntax error, a misspelt variable or a sandbox refusal is shown next to
  its field and nothing is saved. The form's hidden ``version`` guards against overwriting a
  colleague's save made meanwhile.

The views read the form and call :mod:`.services` (``resend``, ``release_address``: both audit)
or save the template themselves (audited here as ``notification_template.updated``). A change
redirects (303) with a ``?done=`` code naming a fixed sentence; a refusal re-renders the page
with its 4xx status, which also vetoes the transaction's commit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import and_, or_, select
from sqlalchemy.orm.exc import StaleDataError

from totetaxi_core.plugin_api import BOOKING_NUMBER as NUMBER
from totetaxi_core.plugin_api import (
    Booking,
    Context,
    InvalidDraft,
    Permission,
    StaffUser,
    allow_csp_sources,
    claim_form_token,
    control_characters,
    decode_cursor,
    encode_cursor,
    get_or_404,
    record_audit,
)

from . import sealing, services, variables
from .models import DeliveryLog, EmailTemplate, Notification, NotificationStatus
from .permissions import NotificationsPermission
from .rendering import RenderError, check_names, render_part

#: The manifest's permissions (both granted to staff, and so to admins).
EDIT = NotificationsPermission.EDIT
RESEND = NotificationsPermission.RESEND

TEMPLATES = "totetaxi_notifications:templates/"
LOG = TEMPLATES + "log.jinja2"
DETAIL = TEMPLATES + "notification.jinja2"
TEMPLATE_LIST = TEMPLATES + "email_templates.jinja2"
EDITOR = TEMPLATES + "email_template.jinja2"

#: Emails on one page of the log at most (``?limit=`` may ask for fewer).
PAGE_SIZE = 50
#: Delivery log rows shown on an email's page (attempts, provider events, resends).
LOG_ROWS = 200
#: A template's parts, in the order of the form.
PARTS = ("subject", "text_body", "html_body")
LABELS = {"subject": "Subject", "text_body": "Text body", "html_body": "HTML body"}
#: The most characters of each part: the subject's column is 300 wide; the bodies are bounded so
#: that one save (and its audit record) stays a reasonable size.
LIMITS = {"subject": 300, "text_body": 100_000, "html_body": 100_000}

STATUS_LABELS: dict[str, str] = {
    NotificationStatus.QUEUED: "Queued",
    NotificationStatus.RETRYING: "Retrying",
    NotificationStatus.SENT: "Sent",
    NotificationStatus.FAILED: "Failed",
    NotificationStatus.HELD: "Held",
}
RESENDABLE = (NotificationStatus.FAILED, NotificationStatus.HELD)

#: One-shot messages after a change: the query carries a code, never text (nothing reflected).
MESSAGES: dict[str, str] = {
    "resent": "The email is queued again with fresh attempts.",
    "released": "The address is released: emails are sent to it again.",
    "not_held": "That address was not held (any more).",
    "template_saved": "Template saved; the next emails use it.",
    "template_unchanged": "Nothing changed: the template already had this text.",
}

STALE = (
    "Someone else saved this template while you were editing it (it is now version {v}). "
    "Nothing was saved: your text is still in the form, and the template as saved now is "
    "shown below. Apply your change to it and save again."
)

_TEMPLATE_KEY = re.compile(r"^[a-z0-9_]{1,60}$")


# --- showing values -------------------------------------------------------------------------------


def _staff_names(request: Request, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        s.id: s.display_name
        for s in request.dbsession.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)))
    }


def _booking_numbers(request: Request, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(
        request.dbsession.execute(
            select(Booking.id, Booking.number).where(Booking.id.in_(wanted))
        ).all()
    )


def _template_names(request: Request) -> dict[str, str]:
    return dict(
        request.dbsession.execute(
            select(EmailTemplate.key, EmailTemplate.name).order_by(EmailTemplate.name)
        ).all()
    )


def _row(
    n: Notification, numbers: Mapping[uuid.UUID, str], names: Mapping[str, str]
) -> dict[str, Any]:
    """A notification as a line of the log (plain values; the template formats them)."""
    number = numbers.get(n.booking_id) if n.booking_id else None
    return {
        "id": str(n.id),
        "created_at": n.created_at,
        "sent_at": n.sent_at,
        "status": str(n.status),
        "recipient": n.recipient,
        "template_key": n.template_key,
        "template_name": names.get(n.template_key, n.template_key),
        "subject": n.subject,
        "attempts": n.attempts,
        "last_error": n.last_error,
        "booking_id": str(n.booking_id) if n.booking_id else None,
        "booking_number": number or (n.context.get("booking") or {}).get("number"),
    }


# --- the log --------------------------------------------------------------------------------------


class FilterError(ValueError):
    """A filter of the log that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def log_filters(params: Mapping[str, str]) -> tuple[dict[str, str], list[Any]]:
    """``(the filters as typed, cleaned; SQL conditions)`` from the log's query string.

    Raises :class:`FilterError` for a value no notification could match because it is not one
    (a malformed booking number, an unknown status): a 400 with the reason, never a blank page.
    """
    typed = {
        name: (params.get(name) or "").strip()
        for name in ("booking", "recipient", "status", "template")
    }
    where: list[Any] = []
    for name, value in typed.items():
        if len(value) > 254 or control_characters(value):
            raise FilterError(name, "This filter is too long or has control characters.")
    if typed["booking"]:
        raw = typed["booking"]
        number = NUMBER.match(raw)
        if number:
            where.append(
                Notification.booking_id.in_(
                    select(Booking.id).where(Booking.seq == int(number.group(1)))
                )
            )
        else:
            try:
                where.append(Notification.booking_id == uuid.UUID(raw))
            except ValueError:
                raise FilterError(
                    "booking", "Booking: a number like TT-000123, or a booking's id."
                ) from None
    if typed["recipient"]:
        # Addresses are stored lower-cased; a part of one (a domain, a name) matches too.
        where.append(Notification.recipient.contains(typed["recipient"].lower(), autoescape=True))
    if typed["status"]:
        if typed["status"] not in STATUS_LABELS:
            raise FilterError("status", "Status: one of " + ", ".join(STATUS_LABELS) + ".")
        where.append(Notification.status == typed["status"])
    if typed["template"]:
        if not _TEMPLATE_KEY.match(typed["template"]):
            raise FilterError("template", "Template: choose one from the list.")
        where.append(Notification.template_key == typed["template"])
    return typed, where


def _page_size(params: Mapping[str, str]) -> int:
    raw = (params.get("limit") or "").strip()
    if not raw:
        return PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= PAGE_SIZE:
        raise FilterError("limit", f"limit must be a whole number from 1 to {PAGE_SIZE}.")
    return int(raw)


@view_config(
    route_name="notifications_log",
    request_method="GET",
    renderer=LOG,
    permission=Permission.STAFF_READ,
)
def log_page(request: Request) -> dict[str, Any]:
    """Every email, newest first, with the counts by status; filters keep to the page links."""
    counts = services.counts_by_status(request.ctx)
    names = _template_names(request)
    answer: dict[str, Any] = {
        "counts": [
            (status, label, counts.get(status, 0)) for status, label in STATUS_LABELS.items()
        ],
        "total": sum(counts.values()),
        "statuses": STATUS_LABELS,
        "templates": names,
        "form": {
            name: (request.GET.get(name) or "").strip()[:254]
            for name in ("booking", "recipient", "status", "template")
        },
        "errors": {},
        "rows": None,
        "next_url": None,
        "first_url": None,
        "paged": bool(request.GET.get("cursor")),
    }
    try:
        typed, where = log_filters(request.GET)
        limit = _page_size(request.GET)
        cursor = request.GET.get("cursor")
        if cursor:
            created_at, row_id = decode_cursor(cursor)
            where.append(
                or_(
                    Notification.created_at < created_at,
                    and_(Notification.created_at == created_at, Notification.id < row_id),
                )
            )
    except FilterError as exc:
        request.response.status_int = 400
        answer["errors"] = {exc.field: str(exc)}
        return answer
    except InvalidDraft as exc:  # a cursor this page did not give out
        request.response.status_int = 400
        answer["errors"] = {exc.field: "This page link is damaged; start from the first page."}
        return answer
    rows = list(
        request.dbsession.scalars(
            select(Notification)
            .where(*where)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    numbers = _booking_numbers(request, {n.booking_id for n in rows})
    answer["rows"] = [_row(n, numbers, names) for n in rows]
    query = {name: value for name, value in typed.items() if value}
    if "limit" in request.GET:
        query["limit"] = str(limit)
    if more:
        answer["next_url"] = request.route_url(
            "notifications_log",
            _query={**query, "cursor": encode_cursor(rows[-1].created_at, rows[-1].id)},
        )
    if answer["paged"]:
        answer["first_url"] = request.route_url("notifications_log", _query=query)
    return answer


# --- one email ------------------------------------------------------------------------------------


def _notification(request: Request, lock: bool = False) -> Notification:
    """The notification named by ``{id}``; the console's 404 page for a malformed or unknown id."""
    return get_or_404(request.dbsession, Notification, request.matchdict["id"], lock=lock)


def _draft(request: Request, n: Notification) -> dict[str, Any] | None:
    """An email not sent yet as the current template gives it (secrets replaced), or ``None``
    when it was sent: staff then see what was sent."""
    if n.status == NotificationStatus.SENT:
        return None
    template = request.dbsession.scalars(
        select(EmailTemplate).where(EmailTemplate.key == n.template_key)
    ).first()
    if template is None:
        return {"error": f"There is no email template {n.template_key!r}."}
    shown = sealing.redacted(n.context)
    try:
        return {
            "subject": " ".join(render_part("subject", template.subject, shown).split()),
            "text": render_part("text_body", template.text_body, shown),
            "html": (
                render_part("html_body", template.html_body, shown)
                if template.html_body.strip()
                else ""
            ),
            "error": None,
        }
    except RenderError as exc:
        return {"error": f"{LABELS.get(exc.part, exc.part)}: {exc.message}"}


def allow_email_html(request: Request) -> None:
    """Let this page's sandboxed ``<iframe srcdoc>`` show an email's HTML as mail clients do.

    The frame inherits the page's Content-Security-Policy, which refuses inline styles: an
    email's HTML is styled inline (``style=`` attributes, <style> blocks) and may show images
    from the web. The frame runs no script whatever the policy (``sandbox=""``).
    """
    allow_csp_sources(request, "style-src", "'unsafe-inline'")
    allow_csp_sources(request, "img-src", "https:")


def _detail(
    request: Request, n: Notification, problem: str | None = None, status: int = 200
) -> dict[str, Any]:
    allow_email_html(request)
    db = request.dbsession
    entries = list(
        db.scalars(
            select(DeliveryLog)
            .where(DeliveryLog.notification_id == n.id)
            .order_by(DeliveryLog.at, DeliveryLog.id)
            .limit(LOG_ROWS)
        )
    )
    held = services.is_held(request.ctx, n.recipient)
    names = _template_names(request)
    numbers = _booking_numbers(request, {n.booking_id})
    request.response.status_int = status
    can_resend = request.has_permission(RESEND)
    return {
        "n": {
            **_row(n, numbers, names),
            "next_attempt_at": n.next_attempt_at,
            "provider": n.provider,
            "provider_message_id": n.provider_message_id,
            "text_body": n.text_body,
            "html_body": n.html_body,
            "updated_at": n.updated_at,
        },
        "template_exists": n.template_key in names,
        "draft": _draft(request, n),
        "log": [
            {
                "at": e.at,
                "kind": e.kind,
                "outcome": e.outcome,
                "provider": e.provider,
                "provider_message_id": e.provider_message_id,
                "detail": e.detail,
            }
            for e in entries
        ],
        "held": None
        if held is None
        else {
            "email": held.email,
            "reason": held.reason,
            "detail": held.detail,
            "since": held.created_at,
        },
        "resendable": n.status in RESENDABLE,
        "can_resend": bool(can_resend),
        "form_token": uuid.uuid4().hex,  # a resubmission of the resend form resends nothing
        "statuses": STATUS_LABELS,
        "message": MESSAGES.get(request.GET.get("done", "")),
        "problem": problem,
    }


@view_config(
    route_name="notifications_detail",
    request_method="GET",
    renderer=DETAIL,
    permission=Permission.STAFF_READ,
)
def detail_page(request: Request) -> dict[str, Any]:
    """One email: its facts, what was sent, its delivery log, and the staff's forms."""
    return _detail(request, _notification(request))


def _back(request: Request, n: Notification, code: str) -> HTTPSeeOther:
    return HTTPSeeOther(
        location=request.route_url("notifications_detail", id=str(n.id), _query={"done": code})
    )


@view_config(
    route_name="notifications_resend", request_method="POST", renderer=DETAIL, permission=RESEND
)
def resend(request: Request) -> Any:
    """Queue a failed or held email again (audited by the service)."""
    n = _notification(request, lock=True)  # two resends at once: the second waits, then sees
    if not claim_form_token(request, request.POST.get("form_token", ""), "notification-resend"):
        # The same form sent twice (a double click): the first one resent it.
        return _back(request, n, "resent")
    try:
        services.resend(request.ctx, n)
    except services.NotResendable:
        request.dbsession.rollback()  # the form token's claim goes with the refusal
        n = _notification(request)
        return _detail(
            request,
            n,
            problem=(
                f"This email is {STATUS_LABELS.get(n.status, n.status).lower()}: only a failed or "
                "held email can be resent."
            ),
            status=409,
        )
    return _back(request, n, "resent")


@view_config(
    route_name="notifications_release", request_method="POST", renderer=DETAIL, permission=RESEND
)
def release(request: Request) -> Any:
    """Send to this email's recipient again (the address had bounced or complained); audited
    by the service. Releasing an address that is not held changes nothing."""
    n = _notification(request)
    released = services.release_address(request.ctx, n.recipient)
    return _back(request, n, "released" if released else "not_held")


# --- templates ------------------------------------------------------------------------------------


def _template(request: Request) -> EmailTemplate:
    key = request.matchdict["key"]
    found = None
    if _TEMPLATE_KEY.match(key):
        found = request.dbsession.scalars(
            select(EmailTemplate).where(EmailTemplate.key == key)
        ).first()
    if found is None:
        raise HTTPNotFound()
    return found


@view_config(
    route_name="notifications_templates",
    request_method="GET",
    renderer=TEMPLATE_LIST,
    permission=Permission.STAFF_READ,
)
def templates_page(request: Request) -> dict[str, Any]:
    """Every email template: name, key, when it is sent, and its last edit."""
    rows = list(request.dbsession.scalars(select(EmailTemplate).order_by(EmailTemplate.name)))
    names = _staff_names(request, {t.updated_by for t in rows})
    return {
        "templates": [
            {
                "key": t.key,
                "name": t.name,
                "description": t.description,
                "version": t.version,
                "updated_at": t.updated_at,
                "updated_by": names.get(t.updated_by) if t.updated_by else None,
            }
            for t in rows
        ],
        "can_edit": request.has_permission(EDIT),
    }


def _lookup(values: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    current: Any = values
    for part in dotted.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False, None
        current = current[part]
    return True, current


def preview_variables(ctx: Context, template: EmailTemplate) -> dict[str, Any]:
    """The preview's variables: :func:`variables.sample`, narrowed to the ones the template
    declares (``EmailTemplate.variables``).

    The sample has every event's variables; a real email of this template only has its own. So a
    ``{{ payment.amount }}`` in "Booking received" is refused at save time as undefined, instead
    of every such email failing to render when sent. A declared name the sample lacks shows as
    ``[name]``. A template declaring nothing sees the whole sample.
    """
    full = variables.sample(ctx)
    declared = template.variables or {}
    if not declared:
        return full
    narrowed: dict[str, Any] = {}
    for dotted in declared:
        found, value = _lookup(full, dotted)
        *path, last = dotted.split(".")
        target = narrowed
        for part in path:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):  # "a" and "a.b" both declared: keep the mapping
                nested = target[part] = {}
            target = nested
        if isinstance(target.get(last), dict):
            continue
        target[last] = value if found else f"[{dotted}]"
    return narrowed


def read_parts(
    post: Mapping[str, str], current: EmailTemplate
) -> tuple[dict[str, str], dict[str, str]]:
    """``(the three parts as typed, errors by part)``; a part left out of the POST stays as it
    is. Browsers send textarea line ends as CRLF: they are kept as LF, as stored."""
    submitted: dict[str, str] = {}
    errors: dict[str, str] = {}
    for part in PARTS:
        value = post.get(part)
        value = getattr(current, part) if value is None else value.replace("\r\n", "\n")
        submitted[part] = value
        label = LABELS[part]
        if len(value) > LIMITS[part]:
            errors[part] = (
                f"{label}: at most {LIMITS[part]:,} characters (this has {len(value):,})."
            )
        elif "\x00" in value:
            errors[part] = f"{label}: NUL characters are not allowed."
        elif part == "subject" and control_characters(value):
            # Every control character: a newline would end the mail header.
            errors[part] = f"{label}: one line, without control characters."
        elif part != "subject" and control_characters(value, multiline=True):
            errors[part] = f"{label}: control characters are not allowed."
        elif part != "html_body" and not value.strip():
            errors[part] = f"{label}: this cannot be empty."
    return submitted, errors


def render_parts(
    parts: Mapping[str, str], values: dict[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """``({subject, text, html} rendered, errors by part)`` of the parts that render and fail."""
    out: dict[str, str] = {}
    errors: dict[str, str] = {}
    for part, name in (("subject", "subject"), ("text_body", "text"), ("html_body", "html")):
        source = parts[part]
        if part == "html_body" and not source.strip():
            out[name] = ""  # no HTML part: mail clients show the text
            continue
        try:
            check_names(part, source, values)
            rendered = render_part(part, source, values)
        except RenderError as exc:
            errors[part] = f"{LABELS[part]}: {exc.message}"
            continue
        if part == "subject":
            rendered = " ".join(rendered.split())
            if len(rendered) > LIMITS["subject"]:
                errors[part] = (
                    f"{LABELS[part]}: renders longer than {LIMITS['subject']} characters."
                )
                continue
        out[name] = rendered
    return out, errors


def _editor(
    request: Request,
    template: EmailTemplate,
    *,
    submitted: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    problem: str | None = None,
    stale: bool = False,
    status: int = 200,
) -> dict[str, Any]:
    allow_email_html(request)
    values = {part: getattr(template, part) for part in PARTS}
    if submitted is not None:
        values.update(submitted)
    preview, preview_errors = render_parts(values, preview_variables(request.ctx, template))
    names = _staff_names(request, {template.updated_by})
    request.response.status_int = status
    return {
        "t": {
            "key": template.key,
            "name": template.name,
            "description": template.description,
            "version": template.version,
            "updated_at": template.updated_at,
            "updated_by": names.get(template.updated_by) if template.updated_by else None,
        },
        "saved": {part: getattr(template, part) for part in PARTS} if stale else None,
        "variables": sorted((template.variables or {}).items()),
        "values": values,
        "errors": dict(errors or {}),
        "problem": problem,
        "preview": preview,
        "preview_errors": preview_errors,
        "labels": LABELS,
        "limits": LIMITS,
        "can_edit": request.has_permission(EDIT),
        "preview_url": request.route_url("notifications_template_preview", key=template.key),
        "message": MESSAGES.get(request.GET.get("done", "")),
    }


@view_config(
    route_name="notifications_template",
    request_method="GET",
    renderer=EDITOR,
    permission=Permission.STAFF_READ,
)
def template_page(request: Request) -> dict[str, Any]:
    """The editor: the three parts, the variables they may use, and their preview."""
    return _editor(request, _template(request))


@view_config(
    route_name="notifications_template", request_method="POST", renderer=EDITOR, permission=EDIT
)
def template_save(request: Request) -> Any:
    """Save the three parts once each renders with the preview's variables; audited."""
    template = _template(request)
    submitted, errors = read_parts(request.POST, template)
    raw = request.POST.get("version", "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        return _editor(
            request,
            template,
            submitted=submitted,
            errors=errors,
            status=400,
            problem="The form is damaged (its version); reload the page.",
        )
    if not errors:
        _, errors = render_parts(submitted, preview_variables(request.ctx, template))
    if errors:
        return _editor(request, template, submitted=submitted, errors=errors, status=400)
    if int(raw) != template.version:
        return _editor(
            request,
            template,
            submitted=submitted,
            stale=True,
            status=409,
            problem=STALE.format(v=template.version),
        )
    changed = [part for part in PARTS if getattr(template, part) != submitted[part]]
    if not changed:
        return _done(request, template, "template_unchanged")
    before: dict[str, Any] = {part: getattr(template, part) for part in changed}
    before["version"] = template.version
    for part in changed:
        setattr(template, part, submitted[part])
    template.updated_by = getattr(request.ctx.actor, "id", None)
    try:
        request.dbsession.flush()  # bumps the version, or finds a save made since we read it
    except StaleDataError:
        # The failed flush ended the session's transaction: start a fresh one (the 409 still
        # vetoes the commit) and show the template as the other save left it.
        request.dbsession.rollback()
        template = _template(request)
        return _editor(
            request,
            template,
            submitted=submitted,
            stale=True,
            status=409,
            problem=STALE.format(v=template.version),
        )
    after: dict[str, Any] = {part: submitted[part] for part in changed}
    after["version"] = template.version
    record_audit(
        request.ctx,
        "notification_template.updated",
        "email_template",
        template.key,
        before=before,
        after=after,
    )
    return _done(request, template, "template_saved")


def _done(request: Request, template: EmailTemplate, code: str) -> HTTPSeeOther:
    return HTTPSeeOther(
        location=request.route_url(
            "notifications_template", key=template.key, _query={"done": code}
        )
    )


@view_config(
    route_name="notifications_template_preview",
    request_method="POST",
    renderer="json",
    permission=Permission.STAFF_READ,
)
def template_preview(request: Request) -> dict[str, Any]:
    """The editor's live preview: ``{subject, text, html}``, or ``{errors: {part: message}}``.

    Any staff role may preview (nothing is saved); a cookie session's POST needs its CSRF token
    (the ``X-CSRF-Token`` header), as every console POST does. Input too long or with NUL
    characters is a 400; a template that does not render is an ordinary answer (200).
    """
    template = _template(request)
    submitted, errors = read_parts(request.POST, template)
    if errors:
        request.response.status_int = 400
        return {"errors": errors}
    rendered, errors = render_parts(submitted, preview_variables(request.ctx, template))
    if errors:
        return {"errors": errors, **rendered}
    return rendered


def includeme(config: Configurator) -> None:
    # The pages' stylesheet and the editor's script (the console's Content-Security-Policy allows no
    # inline ones), public like the core's.
    config.add_static_view(
        "console/static/notifications",
        "totetaxi_notifications:static",
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    # Templates are named by asset spec ("totetaxi_notifications:templates/..."): no search path
    # of the shared Jinja2 environment is needed or changed. The template routes come before
    # ".../{id}" so that "templates" is never taken for an email's id.
    config.add_route("notifications_log", "/console/notifications")
    config.add_route("notifications_templates", "/console/notifications/templates")
    config.add_route("notifications_template", "/console/notifications/templates/{key}")
    config.add_route(
        "notifications_template_preview", "/console/notifications/templates/{key}/preview"
    )
    config.add_route("notifications_detail", "/console/notifications/{id}")
    config.add_route("notifications_resend", "/console/notifications/{id}/resend")
    config.add_route("notifications_release", "/console/notifications/{id}/release")
    config.scan(__name__)
