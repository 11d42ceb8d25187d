"""Email: through Django's configured backend (console in embedded mode, SMTP in production)."""

from django.conf import settings
from django.core.mail import send_mail

from alerts.models import NotificationChannel
from alerts.notifications.message import DeliveryError, Message


def send(*, channel: NotificationChannel, message: Message) -> int | None:
    send_to(recipients=channel.recipients, message=message)
    return None


def send_to(*, recipients: list[str], message: Message) -> None:
    try:
        send_mail(message.subject, message.text, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    except Exception as error:  # SMTP and socket errors of any backend
        raise DeliveryError(f"email not sent: {error}") from error
