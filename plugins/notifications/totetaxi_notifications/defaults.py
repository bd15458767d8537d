"""The default email templates, one per event of BUSINESS_RULES.md "Notifications", and one
per change of a booking the customer must know of (cancelled, status changed by staff,
rescheduled, completed).

Loaded once, when the plugin is installed (``totetaxi migrate``, by :mod:`.seed`); a template
added later comes with a migration that adds it where the plugin is installed already
(:data:`BOOKING_CHANGE_KEYS`, :data:`DELIVERY_KEYS`). From then on they live in the database
and staff edit them in the console.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import EmailTemplate
from .variables import BOOKING_VARIABLES, COMMON_VARIABLES

PAYMENT_VARIABLES = {
    "payment.amount": "the amount, e.g. $1,725.00",
    "payment.amount_cents": "the amount in cents",
}
FAILED_VARIABLES = {
    "payment.failure_reason": "why the payment failed, as the bank said",
    "payment.attempts_left": "attempts left before the booking is cancelled",
}
REFUND_VARIABLES = {"refund.amount": "the refunded amount", "refund.amount_cents": "in cents"}
DELIVERY_VARIABLES = {
    "delivery.status": (
        "what happened to the task: assigned (a driver, or another driver), picked_up, "
        "delivered, failed or rescheduled"
    ),
    "delivery.kind": "the task: pickup (collecting the items) or dropoff (delivering them)",
    "delivery.driver_name": "the driver's first name (may be empty)",
    "delivery.eta": "the expected arrival (may be empty)",
    "delivery.window": (
        "the task's date and window in New York time, e.g. Tuesday, December 8, 2026, "
        "8:00 AM – 12:00 PM (may be empty)"
    ),
}
DOCUMENT_VARIABLES = {
    "document.filename": "the certificate's file name (may be empty)",
    "document.expires_on": "when the certificate ends (may be empty)",
    "document.note": "the reviewer's note to the customer (may be empty)",
}
RESET_VARIABLES = {
    "reset_url": "the single-use link (never kept after sending)",
    "reset_minutes": "how long the link works",
}
CANCELLATION_VARIABLES = {
    "cancellation.by": "who cancelled: customer (a guest too), staff or system",
    "cancellation.refund_percent": (
        "the percent of what was paid the cancellation policy refunds, when the customer "
        "cancelled a paid booking (empty otherwise; 0: nothing back)"
    ),
    "cancellation.reason": (
        "the customer's own reason (always empty when staff or the system cancelled: a staff "
        "member's note is internal)"
    ),
}
STATUS_CHANGE_VARIABLES = {
    "change.old_status": "the status before (pending_payment, confirmed, ...)",
    "change.new_status": "the status staff set: confirmed or in_progress",
}
RESCHEDULE_VARIABLES = {
    "reschedule.old_date": "the pickup day before the move",
    "reschedule.new_date": "the new pickup day",
    "reschedule.old_time_window": "the pickup window before the move",
    "reschedule.new_time_window": "the new pickup window",
    "reschedule.old_total": "the total before the move",
    "reschedule.new_total": "the total now",
    "reschedule.difference": "how much the total moved, e.g. $149.25 (never negative)",
    "reschedule.difference_cents": (
        "the same in cents, signed: above 0 more to pay, below 0 to be refunded, 0 unchanged"
    ),
    "reschedule.paid": "whether the booking was paid (confirmed) when it moved",
}

_GREETING = "Hello{% if recipient.first_name %} {{ recipient.first_name }}{% endif %},"
_SIGN_OFF = (
    "\n\nQuestions? Reply to this email or write to {{ company.support_email }}.\n"
    "— The {{ company.name }} team\n"
)
_BOOKING_FACTS = (
    "Booking: {{ booking.number }}\n"
    "Service: {{ booking.service }}\n"
    "Pickup: {{ booking.pickup_date }}, {{ booking.time_window }}\n"
    "From: {{ booking.pickup_address }}\n"
    "To: {{ booking.delivery_address }}\n"
    "Total: {{ booking.total }}\n"
)


def _html(paragraphs: list[str], facts: bool = True, button: tuple[str, str] | None = None) -> str:
    """A plain, mail-client-safe HTML body: inline styles, one column."""
    body = "".join(f'<p style="margin:0 0 16px">{p}</p>' for p in paragraphs)
    if facts:
        rows = "".join(
            f'<tr><td style="padding:4px 16px 4px 0;color:#666">{label}</td>'
            f'<td style="padding:4px 0">{value}</td></tr>'
            for label, value in (
                ("Booking", "{{ booking.number }}"),
                ("Service", "{{ booking.service }}"),
                ("Pickup", "{{ booking.pickup_date }}, {{ booking.time_window }}"),
                ("From", "{{ booking.pickup_address }}"),
                ("To", "{{ booking.delivery_address }}"),
                ("Total", "<strong>{{ booking.total }}</strong>"),
            )
        )
        body += f'<table style="border-collapse:collapse;margin:0 0 16px">{rows}</table>'
    if button:
        url, label = button
        body += (
            f'<p style="margin:0 0 16px"><a href="{url}" style="background:#111;color:#fff;'
            f'padding:10px 18px;text-decoration:none;border-radius:4px">{label}</a></p>'
        )
    return (
        '<!doctype html><html><body style="font-family:Helvetica,Arial,sans-serif;color:#111;'
        'max-width:560px;margin:0 auto;padding:24px">'
        '<h1 style="font-size:20px;margin:0 0 24px">{{ company.name }}</h1>'
        f'<p style="margin:0 0 16px">{_GREETING}</p>{body}'
        '<p style="margin:24px 0 0;color:#666;font-size:13px">Questions? Reply to this email or '
        "write to {{ company.support_email }}.</p></body></html>"
    )


@dataclass(frozen=True)
class Default:
    key: str
    name: str
    description: str
    subject: str
    text_body: str
    html_body: str
    variables: dict[str, str]

    def row(self) -> EmailTemplate:
        return EmailTemplate(
            key=self.key,
            name=self.name,
            description=self.description,
            subject=self.subject,
            text_body=self.text_body,
            html_body=self.html_body,
            variables=dict(self.variables),
        )


def _booking_vars(**extra: str) -> dict[str, str]:
    return {**COMMON_VARIABLES, **BOOKING_VARIABLES, **extra}


_VIEW = ("{{ booking.url }}", "View your booking")

# Sentences of the booking change emails, shared by their text and HTML bodies.
_STAFF_REFUND = (
    "If you paid, our team will refund you and you will get an email when the refund is issued."
)
_POLICY_REFUND = (
    "{{ cancellation.refund_percent }}% of what you paid will be refunded to your card; you will "
    "get an email when the refund is issued."
)
_NO_REFUND = "Under our cancellation policy, this cancellation is not refunded."
_CONFIRMED_BY_STAFF = (
    "Our team confirmed your booking {{ booking.number }}. We will pick up your items on "
    "{{ booking.pickup_date }}, {{ booking.time_window }}."
)
_UNDER_WAY = "Your move is under way: our team has started on booking {{ booking.number }}."
_COMPLETED = (
    "Your move with booking {{ booking.number }} is complete: your items are at "
    "{{ booking.delivery_address }}. Thank you for moving with {{ company.name }}."
)
_MOVED = (
    "The pickup of booking {{ booking.number }} moved from {{ reschedule.old_date }}, "
    "{{ reschedule.old_time_window }} to {{ reschedule.new_date }}, "
    "{{ reschedule.new_time_window }}."
)
_DRIVER = "{% if delivery.driver_name %}{{ delivery.driver_name }}{% else %}Our driver{% endif %}"
# A driver took the pickup or the drop-off (or another driver did): when, from the task's own
# window, else (a pickup) the booking's.
_ASSIGNED = (
    _DRIVER + ' will {% if delivery.kind == "dropoff" %}deliver your items to '
    "{{ booking.delivery_address }}{% if delivery.window %} on {{ delivery.window }}{% endif %}"
    "{% else %}pick up your items on {% if delivery.window %}{{ delivery.window }}{% else %}"
    "{{ booking.pickup_date }}, {{ booking.time_window }}{% endif %}{% endif %}."
)
# A failed pickup or drop-off got a new date and window. Never the failure's reason: it is
# written for staff.
_TASK_RESCHEDULED = (
    'We rescheduled the {% if delivery.kind == "dropoff" %}delivery of your items to '
    "{{ booking.delivery_address }}{% else %}pickup of your items{% endif %} for booking "
    "{{ booking.number }}{% if delivery.window %}. The new time is {{ delivery.window }}."
    "{% else %}; we will let you know the new time shortly.{% endif %}"
)
_DEARER = (
    "The new total is {{ reschedule.new_total }}, {{ reschedule.difference }} more than before"
    "{% if reschedule.paid %}: the difference is left to pay on your booking's page{% endif %}."
)
_CHEAPER = (
    "The new total is {{ reschedule.new_total }}, {{ reschedule.difference }} less than before"
    "{% if reschedule.paid %}: the difference will be refunded to your card, and you will get "
    "an email when the refund is issued{% endif %}."
)

DEFAULTS: tuple[Default, ...] = (
    Default(
        "booking_received",
        "Booking received",
        "A booking was made; it waits for payment.",
        "We received your booking {{ booking.number }}",
        f"{_GREETING}\n\nThank you for booking with {{{{ company.name }}}}. We have your booking; "
        "it is confirmed as soon as it is paid.\n\n"
        + _BOOKING_FACTS
        + "\nSee or pay for it here: {{ booking.url }}"
        + _SIGN_OFF,
        _html(
            [
                "Thank you for booking with {{ company.name }}. We have your booking; it is "
                "confirmed as soon as it is paid."
            ],
            button=_VIEW,
        ),
        _booking_vars(),
    ),
    Default(
        "payment_confirmed",
        "Payment confirmed",
        "A payment settled and the booking is confirmed.",
        "Booking {{ booking.number }} is confirmed",
        f"{_GREETING}\n\nWe received your payment of {{{{ payment.amount }}}}. Your booking is "
        "confirmed.\n\n" + _BOOKING_FACTS + "\nYour booking: {{ booking.url }}" + _SIGN_OFF,
        _html(
            [
                "We received your payment of <strong>{{ payment.amount }}</strong>. Your booking "
                "is confirmed."
            ],
            button=_VIEW,
        ),
        _booking_vars(**PAYMENT_VARIABLES),
    ),
    Default(
        "payment_failed",
        "Payment failed",
        "A payment attempt was declined or failed.",
        "Your payment for booking {{ booking.number }} did not go through",
        f"{_GREETING}\n\nYour payment of {{{{ payment.amount }}}} for booking "
        "{{ booking.number }} did not go through: {{ payment.failure_reason }}\n\n"
        "{% if payment.attempts_left %}Please try again with another card "
        "({{ payment.attempts_left }} attempt(s) left): {{ booking.url }}"
        "{% else %}The booking has been cancelled.{% endif %}" + _SIGN_OFF,
        _html(
            [
                "Your payment of {{ payment.amount }} for booking {{ booking.number }} did not "
                "go through: {{ payment.failure_reason }}",
                "{% if payment.attempts_left %}Please try again with another card "
                "({{ payment.attempts_left }} attempt(s) left).{% else %}The booking has been "
                "cancelled.{% endif %}",
            ],
            facts=False,
            button=("{{ booking.url }}", "Try again"),
        ),
        _booking_vars(**PAYMENT_VARIABLES, **FAILED_VARIABLES),
    ),
    Default(
        "delivery_assigned",
        "Delivery assigned",
        "A driver was assigned to the booking's pickup or drop-off (again when another driver "
        "takes it over).",
        "A driver is assigned to booking {{ booking.number }}",
        f"{_GREETING}\n\n{_ASSIGNED}\n\n" + _BOOKING_FACTS + _SIGN_OFF,
        _html([_ASSIGNED], button=_VIEW),
        _booking_vars(**DELIVERY_VARIABLES),
    ),
    Default(
        "delivery_picked_up",
        "Picked up",
        "The driver picked the items up.",
        "Your items are on their way ({{ booking.number }})",
        f"{_GREETING}\n\nWe picked up your items and they are on their way to "
        "{{ booking.delivery_address }}.{% if delivery.eta %} Expected arrival: "
        "{{ delivery.eta }}.{% endif %}\n\nFollow them: {{ booking.url }}" + _SIGN_OFF,
        _html(
            [
                "We picked up your items and they are on their way to "
                "{{ booking.delivery_address }}.{% if delivery.eta %} Expected arrival: "
                "{{ delivery.eta }}.{% endif %}"
            ],
            facts=False,
            button=_VIEW,
        ),
        _booking_vars(**DELIVERY_VARIABLES),
    ),
    Default(
        "delivery_delivered",
        "Delivered",
        "The items were delivered.",
        "Delivered: booking {{ booking.number }}",
        f"{_GREETING}\n\nYour items were delivered to {{{{ booking.delivery_address }}}}. "
        "Thank you for moving with {{ company.name }}." + _SIGN_OFF,
        _html(
            [
                "Your items were delivered to {{ booking.delivery_address }}. Thank you for "
                "moving with {{ company.name }}."
            ],
            facts=False,
        ),
        _booking_vars(**DELIVERY_VARIABLES),
    ),
    Default(
        "delivery_failed",
        "Delivery failed",
        "The delivery could not be completed.",
        "We could not complete booking {{ booking.number }}",
        f"{_GREETING}\n\nWe could not complete the delivery of booking {{{{ booking.number }}}} "
        "today. Our team will contact you shortly to arrange a new time." + _SIGN_OFF,
        _html(
            [
                "We could not complete the delivery of booking {{ booking.number }} today. Our "
                "team will contact you shortly to arrange a new time."
            ],
            facts=False,
        ),
        _booking_vars(**DELIVERY_VARIABLES),
    ),
    Default(
        "delivery_rescheduled",
        "Delivery rescheduled",
        "A failed pickup or drop-off got a new date and window (never with the failure's reason: "
        "it is internal).",
        "New "
        '{% if delivery.kind == "dropoff" %}delivery{% else %}pickup{% endif %}'
        " time for booking {{ booking.number }}",
        f"{_GREETING}\n\n{_TASK_RESCHEDULED}\n\nYour booking: {{{{ booking.url }}}}" + _SIGN_OFF,
        _html([_TASK_RESCHEDULED], facts=False, button=_VIEW),
        _booking_vars(**DELIVERY_VARIABLES),
    ),
    Default(
        "refund_issued",
        "Refund issued",
        "A refund went through at the payment provider.",
        "Refund of {{ refund.amount }} for booking {{ booking.number }}",
        f"{_GREETING}\n\nWe refunded {{{{ refund.amount }}}} for booking {{{{ booking.number }}}} "
        "to your card. It usually appears within 5 to 10 business days." + _SIGN_OFF,
        _html(
            [
                "We refunded <strong>{{ refund.amount }}</strong> for booking "
                "{{ booking.number }} to your card. It usually appears within 5 to 10 business "
                "days."
            ],
            facts=False,
        ),
        _booking_vars(**REFUND_VARIABLES),
    ),
    Default(
        "password_reset",
        "Password reset",
        "Somebody asked to reset the account's password.",
        "Reset your {{ company.name }} password",
        f"{_GREETING}\n\nUse this link within {{{{ reset_minutes }}}} minutes to choose a new "
        "password:\n\n{{ reset_url }}\n\nIf you did not ask for it, ignore this email: your "
        "password stays as it is." + _SIGN_OFF,
        _html(
            [
                "Use the button below within {{ reset_minutes }} minutes to choose a new password.",
                "If you did not ask for it, ignore this email: your password stays as it is.",
            ],
            facts=False,
            button=("{{ reset_url }}", "Choose a new password"),
        ),
        {**COMMON_VARIABLES, **RESET_VARIABLES},
    ),
    Default(
        "coi_missing",
        "Certificate of insurance missing",
        "The building needs a certificate of insurance and none is accepted yet.",
        "Certificate of insurance needed for booking {{ booking.number }}",
        f"{_GREETING}\n\nThe building at your address needs a certificate of insurance (COI) "
        "for booking {{ booking.number }} on {{ booking.pickup_date }}, and we do not have an "
        "accepted one yet.{% if document.note %}\n\nAbout the one you sent: {{ document.note }}"
        "{% endif %}\n\nUpload it here: {{ booking.url }}" + _SIGN_OFF,
        _html(
            [
                "The building at your address needs a certificate of insurance (COI) for booking "
                "{{ booking.number }} on {{ booking.pickup_date }}, and we do not have an accepted "
                "one yet.",
                "{% if document.note %}About the one you sent: {{ document.note }}{% endif %}",
            ],
            facts=False,
            button=("{{ booking.url }}", "Upload the certificate"),
        ),
        _booking_vars(**DOCUMENT_VARIABLES),
    ),
    Default(
        "coi_expiring",
        "Certificate of insurance expiring",
        "The accepted certificate of insurance ends before the move.",
        "Your certificate of insurance expires before booking {{ booking.number }}",
        f"{_GREETING}\n\nThe certificate of insurance we have for booking {{{{ booking.number }}}}"
        " expires on {{ document.expires_on }}, before your move on {{ booking.pickup_date }}. "
        "Please send a current one: {{ booking.url }}" + _SIGN_OFF,
        _html(
            [
                "The certificate of insurance we have for booking {{ booking.number }} expires on "
                "{{ document.expires_on }}, before your move on {{ booking.pickup_date }}. Please "
                "send a current one."
            ],
            facts=False,
            button=("{{ booking.url }}", "Upload the certificate"),
        ),
        _booking_vars(**DOCUMENT_VARIABLES),
    ),
    Default(
        "booking_cancelled",
        "Booking cancelled",
        "The booking was cancelled: by the customer, by staff, or by the system (not when the "
        "last failed payment's email already said so).",
        "Booking {{ booking.number }} is cancelled",
        # A paragraph that may be left out ends inside its {% if %}: the newline right after a
        # tag is dropped (trim_blocks), so one written after {% endif %} would be lost.
        f"{_GREETING}\n\n"
        '{% if cancellation.by == "customer" %}As you asked, we cancelled booking '
        "{{ booking.number }}.\n\n"
        "{% else %}Booking {{ booking.number }} was cancelled"
        '{% if cancellation.by == "staff" %} by our team{% endif %}.\n\n'
        "{% endif %}"
        "{% if cancellation.reason %}Your reason: {{ cancellation.reason }}\n\n{% endif %}"
        '{% if cancellation.by != "customer" %}' + _STAFF_REFUND + "\n\n"
        "{% elif cancellation.refund_percent %}" + _POLICY_REFUND + "\n\n"
        "{% elif cancellation.refund_percent == 0 %}" + _NO_REFUND + "\n\n"
        "{% endif %}" + _BOOKING_FACTS + "\nYour booking: {{ booking.url }}" + _SIGN_OFF,
        _html(
            [
                '{% if cancellation.by == "customer" %}As you asked, we cancelled booking '
                "{{ booking.number }}.{% else %}Booking {{ booking.number }} was cancelled"
                '{% if cancellation.by == "staff" %} by our team{% endif %}.{% endif %}'
                "{% if cancellation.reason %} Your reason: {{ cancellation.reason }}{% endif %}",
                '{% if cancellation.by != "customer" %}'
                + _STAFF_REFUND
                + "{% elif cancellation.refund_percent %}"
                + _POLICY_REFUND
                + "{% elif cancellation.refund_percent == 0 %}"
                + _NO_REFUND
                + "{% endif %}",
            ],
            button=_VIEW,
        ),
        _booking_vars(**CANCELLATION_VARIABLES),
    ),
    Default(
        "booking_status_changed",
        "Booking status changed",
        "A staff member confirmed the booking or started the move (a payment's confirmation "
        "sends Payment confirmed instead; cancellation and completion have their own).",
        "Booking {{ booking.number }}"
        '{% if change.new_status == "in_progress" %}: your move is under way'
        "{% else %} is {{ change.new_status }}{% endif %}",
        f"{_GREETING}\n\n"
        '{% if change.new_status == "in_progress" %}' + _UNDER_WAY + "\n\n"
        "{% else %}" + _CONFIRMED_BY_STAFF + "\n\n"
        "{% endif %}" + _BOOKING_FACTS + "\nYour booking: {{ booking.url }}" + _SIGN_OFF,
        _html(
            [
                '{% if change.new_status == "in_progress" %}'
                + _UNDER_WAY
                + "{% else %}"
                + _CONFIRMED_BY_STAFF
                + "{% endif %}"
            ],
            button=_VIEW,
        ),
        _booking_vars(**STATUS_CHANGE_VARIABLES),
    ),
    Default(
        "booking_completed",
        "Booking completed",
        "The booking is completed: the move is done.",
        "Booking {{ booking.number }} is complete",
        f"{_GREETING}\n\n{_COMPLETED}\n\nYour booking: {{{{ booking.url }}}}" + _SIGN_OFF,
        _html([_COMPLETED], facts=False, button=_VIEW),
        _booking_vars(),
    ),
    Default(
        "booking_rescheduled",
        "Booking rescheduled",
        "The pickup moved to another date or time window (with the new total when it changed).",
        "New pickup time for booking {{ booking.number }}",
        f"{_GREETING}\n\n{_MOVED}\n\n"
        "{% if reschedule.difference_cents > 0 %}" + _DEARER + "\n\n"
        "{% elif reschedule.difference_cents < 0 %}" + _CHEAPER + "\n\n"
        "{% endif %}" + _BOOKING_FACTS + "\nYour booking: {{ booking.url }}" + _SIGN_OFF,
        _html(
            [
                _MOVED,
                "{% if reschedule.difference_cents > 0 %}"
                + _DEARER
                + "{% elif reschedule.difference_cents < 0 %}"
                + _CHEAPER
                + "{% endif %}",
            ],
            button=_VIEW,
        ),
        _booking_vars(**RESCHEDULE_VARIABLES),
    ),
)

#: What staff write into a customer-care email, kept as typed (line breaks too).
CARE_VARIABLES = {"message.body": "what the staff member wrote (may be empty)"}
_MESSAGE = (
    '{% if message.body %}<span style="white-space:pre-line">{{ message.body }}</span>{% endif %}'
)
_CARE_TEXT_MESSAGE = "{% if message.body %}{{ message.body }}\n\n{% endif %}"
_WEATHER = (
    "The weather on the road between Manhattan and the Hamptons may slow our vans today. Your "
    "items are safe with us; we will keep you posted on the new arrival time."
)
_FOLLOW_UP = (
    "Thank you for moving with {{ company.name }}. We would love to hear how it went: just "
    "reply to this email."
)

#: Emails staff send a customer by hand from the customer's page (customer care): every
#: template whose key starts with ``care_`` is offered there. :mod:`.migrations` revision
#: n0005 adds them where the plugin was installed before.
CARE_DEFAULTS: tuple[Default, ...] = (
    Default(
        "care_message",
        "Message from our team",
        "Customer care: a personal message; the staff member's text is the email.",
        "A message from {{ company.name }}",
        f"{_GREETING}\n\n{_CARE_TEXT_MESSAGE}" + _SIGN_OFF.lstrip("\n"),
        _html([_MESSAGE], facts=False),
        {**COMMON_VARIABLES, **CARE_VARIABLES},
    ),
    Default(
        "care_weather_delay",
        "Weather delay",
        "Customer care: the weather slows the vans; an optional note from staff follows.",
        "Your {{ company.name }} move: a weather delay",
        f"{_GREETING}\n\n{_WEATHER}\n\n{_CARE_TEXT_MESSAGE}" + _SIGN_OFF.lstrip("\n"),
        _html([_WEATHER, _MESSAGE], facts=False),
        {**COMMON_VARIABLES, **CARE_VARIABLES},
    ),
    Default(
        "care_follow_up",
        "Follow-up after a move",
        "Customer care: thanks and a request for feedback; an optional note from staff follows.",
        "How was your move with {{ company.name }}?",
        f"{_GREETING}\n\n{_FOLLOW_UP}\n\n{_CARE_TEXT_MESSAGE}" + _SIGN_OFF.lstrip("\n"),
        _html([_FOLLOW_UP, _MESSAGE], facts=False),
        {**COMMON_VARIABLES, **CARE_VARIABLES},
    ),
)
DEFAULTS = DEFAULTS + CARE_DEFAULTS
CARE_KEYS = tuple(d.key for d in CARE_DEFAULTS)
CARE_PREFIX = "care_"

#: Templates added after the first release: :mod:`.migrations` revision n0003 adds them to
#: databases where the plugin was installed before (its seed runs only at install).
BOOKING_CHANGE_KEYS = (
    "booking_cancelled",
    "booking_status_changed",
    "booking_completed",
    "booking_rescheduled",
)

#: The delivery templates (``totetaxi_delivery_updated``): :mod:`.migrations` revision n0004
#: adds those missing (``delivery_rescheduled`` is new in 1.2.0) to databases installed before,
#: gives the existing ones the delivery variables added since, and replaces the 1.0 text of
#: ``delivery_assigned`` (a pickup only) where staff left it as it was.
DELIVERY_KEYS = (
    "delivery_assigned",
    "delivery_picked_up",
    "delivery_delivered",
    "delivery_failed",
    "delivery_rescheduled",
)

KEYS = tuple(d.key for d in DEFAULTS)
