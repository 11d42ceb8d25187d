from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "detection"
    verbose_name = "Detection"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from detection import tasks
        from detection.models import Detection, Recording
        from detection.receivers import delete_files_of_deleted_row
        from outcry.signals import server_started
        from outcry.tasking import register_periodic_task

        for model in (Recording, Detection):
            post_delete.connect(
                delete_files_of_deleted_row, sender=model, dispatch_uid=f"detection.files.{model.__name__}"
            )

        # Celery workers warm up on their own start signals (detection.tasks); servers on this one.
        server_started.connect(tasks.warm_up_detector, dispatch_uid="detection.warm_up_detector")

        register_periodic_task(
            "detection.requeue_stalled_recordings", "detection.tasks.requeue_stalled_recordings", tasks.REQUEUE_EVERY_S
        )
        register_periodic_task(
            "detection.purge_expired_audio", tasks.purge_expired_audio.name, tasks.PURGE_EXPIRED_AUDIO_EVERY_S
        )
        # Live streaming: Celery autodiscovers detection.tasks only; the stream tasks register on import.
        from detection.streaming import tasks as streaming_tasks

        register_periodic_task(
            "detection.mark-offline-sensors",
            streaming_tasks.mark_offline_sensors.name,
            streaming_tasks.MARK_OFFLINE_EVERY_S,
        )
