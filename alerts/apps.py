from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and incidents"

    def ready(self) -> None:
        from alerts import tasks  # noqa: F401  (registers the tasks the beat schedule names)
        from alerts.receivers import raise_incidents_for_detections
        from detection.signals import detections_stored
        from outcry.tasking import register_periodic_task

        detections_stored.connect(raise_incidents_for_detections, dispatch_uid="alerts.raise_incidents")
        register_periodic_task("alerts.escalate_unacknowledged", "alerts.tasks.escalate_unacknowledged", 15.0)
        register_periodic_task("alerts.deliver_due_notifications", "alerts.tasks.deliver_due_notifications", 15.0)
