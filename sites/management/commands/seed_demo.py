"""Demo data so a newcomer can log in at once: three sites, their sensors, a user of each role.

Safe to run again: existing rows are kept as they are (nothing is duplicated), a user who already
exists keeps the password they set (pass --reset-passwords to put the demo passwords back), and a
sensor key is printed only when the sensor is created, because only its hash is stored.
The demo passwords are public: never run this against a production database.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from outcry.models import User
from sites.models import Membership, Role, Sensor, SensorKind, Site
from sites.services import membership_create, sensor_create, site_create

SITES = [
    {
        "name": "Northfield High School",
        "slug": "northfield-high",
        "address": "12 School Lane, Northfield",
        "timezone": "Europe/London",
        "sensors": [
            ("Gym", "Gym, north wall", SensorKind.EDGE),
            ("Main corridor", "Ground floor, by the lockers", SensorKind.EDGE),
            ("Playground", "Playground, east fence", SensorKind.EDGE),
        ],
    },
    {
        "name": "St. Mary's Hospital \N{EN DASH} East Wing",
        "slug": "st-marys-east",
        "address": "1 Infirmary Road",
        "timezone": "Europe/London",
        "sensors": [
            ("A&E waiting room", "Waiting room ceiling", SensorKind.EDGE),
            ("Ward 3 corridor", "Corridor by the nurses' station", SensorKind.EDGE),
            ("Reception tablet", "Reception desk", SensorKind.BROWSER),
        ],
    },
    {
        "name": "Riverside Plant",
        "slug": "riverside-plant",
        "address": "Dock Road 4, Riverside",
        "timezone": "Europe/Berlin",
        "sensors": [
            ("Loading bay", "Bay 2, above the shutter", SensorKind.EDGE),
            ("Night recordings", "Uploaded nightly from the old DVR", SensorKind.FILE_DROP),
        ],
    },
]
_FIRST_TWO = ["northfield-high", "st-marys-east"]
# (username, password, what they are, {site slug: role}); "admin" is a superuser.
USERS = [
    ("admin", "outcry-admin", "platform admin (superuser): every site, the admin pages", {}),
    ("manager", "outcry-manager", "manager of Northfield and St. Mary's", dict.fromkeys(_FIRST_TWO, Role.MANAGER)),
    ("operator", "outcry-operator", "operator at Northfield and St. Mary's", dict.fromkeys(_FIRST_TWO, Role.OPERATOR)),
    ("viewer", "outcry-viewer", "viewer at Northfield and St. Mary's", dict.fromkeys(_FIRST_TWO, Role.VIEWER)),
    ("riverside", "outcry-riverside", "operator at Riverside Plant only", {"riverside-plant": Role.OPERATOR}),
]


DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # what `make run` serves on unless HOST or PORT say otherwise


class Command(BaseCommand):
    help = "Create demo sites, sensors and users (one per role). Safe to run more than once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords", action="store_true", help="Set existing demo users' passwords back to the demo ones."
        )
        parser.add_argument(
            "--base-url",
            default=DEFAULT_BASE_URL,
            help="Where the server will listen, for the links printed with the logins (make run passes its own).",
        )

    @transaction.atomic
    def handle(self, *args, reset_passwords: bool = False, base_url: str = DEFAULT_BASE_URL, **options):
        if not settings.EMBEDDED:
            self.stderr.write(self.style.WARNING("Not in embedded mode: these demo passwords are public."))
        sites = {spec["slug"]: self._site(spec) for spec in SITES}
        for username, password, _, roles in USERS:
            user = self._user(username, password, reset_password=reset_passwords)
            for slug, role in roles.items():
                self._membership(user, sites[slug], role)
        self._print_logins(base_url.rstrip("/"))

    def _site(self, spec: dict) -> Site:
        site = Site.objects.filter(slug=spec["slug"]).first()
        if site is None:
            site = site_create(name=spec["name"], slug=spec["slug"], address=spec["address"], timezone=spec["timezone"])
            self.stdout.write(f"Created site {site.name}")
        for name, location, kind in spec["sensors"]:
            if not Sensor.objects.filter(site=site, name=name).exists():
                sensor, key = sensor_create(site=site, name=name, location=location, kind=kind)
                self.stdout.write(f"  Created sensor {name!r} (id {sensor.id}); its key, shown only now: {key}")
        return site

    def _user(self, username: str, password: str, *, reset_password: bool) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            is_admin = username == "admin"
            user = User.objects.create_user(
                username=username,
                password=password,
                email=f"{username}@outcry.example",
                first_name=username.capitalize(),
                is_staff=is_admin,
                is_superuser=is_admin,
            )
            self.stdout.write(f"Created user {username}")
        elif reset_password:
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(f"Reset the password of {username}")
        return user

    def _membership(self, user: User, site: Site, role: str) -> None:
        if not Membership.objects.filter(user=user, site=site).exists():
            membership_create(user=user, site=site, role=role)

    def _print_logins(self, base_url: str) -> None:
        rows = [("username", "password", "what they can do")] + [(u, p, d) for u, p, d, _ in USERS]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * width for width in widths))
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins (existing users keep a password they changed):"))
        for line in lines:
            self.stdout.write(f"  {line}")
        self.stdout.write("")
        self.stdout.write(f"  Outcry     {base_url}/")
        self.stdout.write(f"  Admin      {base_url}/admin/")
        self.stdout.write(f"  API docs   {base_url}/api/docs/")
        self.stdout.write("  API token  curl -X POST -d username=operator -d password=outcry-operator \\")
        self.stdout.write(f"                  {base_url}/api/v1/auth/token/")
