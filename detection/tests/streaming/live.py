"""A real Outcry server (daphne, embedded mode, its own SQLite and media) for end-to-end stream tests."""

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from outcry.tests.django_subprocess import clean_environment, run_manage, run_python
from outcry.tests.wiring_processes import daphne

_CREATE_WORLD = """
import json, django
django.setup()
from sites.models import Role
from sites.services import sensor_create, site_create, membership_create
from outcry.models import User
site = site_create(name="Live site", slug="live-site")
sensor, key = sensor_create(site=site, name="Live mic", kind="browser")
manager = User.objects.create_user("manager", "manager@example.org", "correct-horse-battery")
operator = User.objects.create_user("operator", "operator@example.org", "correct-horse-battery")
membership_create(user=manager, site=site, role=Role.MANAGER)
membership_create(user=operator, site=site, role=Role.OPERATOR)
print(json.dumps({"site": site.pk, "sensor": sensor.pk, "key": key}))
"""


@dataclass
class LiveServer:
    port: int
    env: dict[str, str]
    site_id: int
    sensor_id: int
    key: str

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def query(self, code: str) -> object:
        """Run ``code`` (which sets ``result``) in a Django process on the server's database; returns result."""
        program = f"import json, django\ndjango.setup()\n{code}\nprint(json.dumps(result, default=str))"
        completed = run_python(program, self.env, timeout=60)
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout.strip().splitlines()[-1])


@contextmanager
def live_server(tmp_path: Path, *, model_path: Path, **environment: str) -> Iterator[LiveServer]:
    (tmp_path / "var").mkdir(exist_ok=True)
    env = clean_environment(
        OUTCRY_VAR_DIR=str(tmp_path / "var"),
        DETECTION_MODEL_PATH=str(model_path),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        **environment,
    )
    migrated = run_manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    created = run_python(_CREATE_WORLD, env)
    assert created.returncode == 0, created.stderr
    world = json.loads(created.stdout.strip().splitlines()[-1])
    with daphne("outcry.asgi:application", env=env, log_path=tmp_path / "daphne.log") as port:
        yield LiveServer(port=port, env=env, site_id=world["site"], sensor_id=world["sensor"], key=world["key"])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0
