from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and incidents"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save

        from alerts import tasks  # noqa: F401  (registers the tasks the beat schedule names)
        from alerts.models import NotificationChannel
        from alerts.receivers import (
            hold_audio_of_open_incidents_and_emergencies,
            raise_incident_priority_for_rescored_detection,
            raise_incidents_for_detections,
            recheck_consoles_after_sign_out,
            recheck_consoles_of_member,
            recheck_consoles_of_user,
        )
        from detection.signals import audio_retention_holds, detection_rescored, detections_stored
        from outcry.tasking import register_periodic_task
        from sites.changelog import secret_rotated_action, track_changes
        from sites.models import Membership

        detections_stored.connect(raise_incidents_for_detections, dispatch_uid="alerts.raise_incidents")
        detection_rescored.connect(
            raise_incident_priority_for_rescored_detection, dispatch_uid="alerts.rescored_detections"
        )
        audio_retention_holds.connect(hold_audio_of_open_incidents_and_emergencies, dispatch_uid="alerts.audio_holds")
        # Open consoles check what they may see again when the answer may have changed.
        post_save.connect(recheck_consoles_of_member, sender=Membership, dispatch_uid="alerts.membership_saved")
        post_delete.connect(recheck_consoles_of_member, sender=Membership, dispatch_uid="alerts.membership_deleted")
        post_save.connect(recheck_consoles_of_user, sender=get_user_model(), dispatch_uid="alerts.user_saved")
        user_logged_out.connect(recheck_consoles_after_sign_out, dispatch_uid="alerts.signed_out")
        register_periodic_task("alerts.escalate_unacknowledged", "alerts.tasks.escalate_unacknowledged", 15.0)
        register_periodic_task("alerts.deliver_due_notifications", "alerts.tasks.deliver_due_notifications", 15.0)
        track_changes(
            NotificationChannel,
            object_type="notification channel",
            fields=("site", "kind", "name", "enabled", "recipients", "url", "notify_on"),
            site_id=lambda channel: channel.site_id,
            secrets={"secret": secret_rotated_action},
        )
