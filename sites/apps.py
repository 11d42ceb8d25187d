from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "sites"
    verbose_name = "Sites and sensors"

    def ready(self) -> None:
        from sites.changelog import sensor_key_action, track_changes
        from sites.models import Membership, Sensor, Site
        from sites.services import SENSOR_FIELDS, SITE_FIELDS

        track_changes(Site, object_type="site", fields=tuple(sorted(SITE_FIELDS)), site_id=lambda site: site.pk)
        track_changes(
            Sensor,
            object_type="sensor",
            fields=("site", *sorted(SENSOR_FIELDS)),
            site_id=lambda sensor: sensor.site_id,
            secrets={"key_hash": sensor_key_action},
        )
        track_changes(
            Membership,
            object_type="membership",
            fields=("user", "site", "role"),
            site_id=lambda membership: membership.site_id,
        )
