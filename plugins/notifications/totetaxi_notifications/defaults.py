"""The default email templates, one per event of BUSINESS_RULES.md "Notifications".

Loaded once, when the plugin is installed (``totetaxi migrate``, by :mod:`.seed`);
from then on they live in the database and staff edit them in the console.
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
    "delivery.status": "assigned, picked_up, delivered or failed",
    "delivery.driver_name": "the driver's first name (may be empty)",
    "delivery.eta": "the expected arrival (may be empty)",
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
        "A driver was assigned to the booking's pickup.",
        "A driver is assigned to booking {{ booking.number }}",
        f"{_GREETING}\n\n{{% if delivery.driver_name %}}{{{{ delivery.driver_name }}}} will"
        "{% else %}Our driver will{% endif %} pick up your items on {{ booking.pickup_date }}, "
        "{{ booking.time_window }}.\n\n" + _BOOKING_FACTS + _SIGN_OFF,
        _html(
            [
                "{% if delivery.driver_name %}{{ delivery.driver_name }} will{% else %}Our driver "
                "will{% endif %} pick up your items on {{ booking.pickup_date }}, "
                "{{ booking.time_window }}."
            ],
            button=_VIEW,
        ),
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
)

KEYS = tuple(d.key for d in DEFAULTS)
