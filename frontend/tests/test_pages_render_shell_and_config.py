import json
import re
from pathlib import Path

import pytest

from sites.models import Role


def page_config(response) -> dict:
    match = re.search(
        r'<script id="page-config" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, "the page carries its config as JSON"
    return json.loads(match.group(1))


def test_console_lists_the_users_sites_with_roles(client, make_site, make_member):
    north, south = make_site("North"), make_site("South")
    make_site("Elsewhere")
    operator = make_member(north, Role.OPERATOR)
    make_member(south, Role.VIEWER, user=operator)
    client.force_login(operator)

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="feed"' in html and 'id="conn"' in html and 'id="sound-toggle"' in html
    assert "frontend/js/console.js" in html
    config = page_config(response)
    assert config["user"]["username"] == operator.username
    assert {(site["name"], site["role"]) for site in config["sites"]} == {("North", "operator"), ("South", "viewer")}


def test_nav_links_admin_only_for_staff(client, make_user):
    client.force_login(make_user())
    assert 'href="/admin/"' not in client.get("/").content.decode()

    client.force_login(make_user(is_staff=True))
    html = client.get("/").content.decode()
    assert 'href="/admin/"' in html
    assert 'href="/api/docs/"' in html


@pytest.mark.parametrize(
    ("role", "upload", "microphone"),
    [("viewer", False, False), ("operator", True, False), ("manager", True, True)],
)
def test_nav_offers_upload_microphone_and_changes_only_to_roles_that_can_use_them(
    client, make_site, make_member, role, upload, microphone
):
    client.force_login(make_member(make_site(), role))

    html = client.get("/history/").content.decode()

    assert ('href="/upload/"' in html, 'href="/microphone/"' in html) == (upload, microphone)
    assert ('href="/changes/"' in html) == microphone  # the change log is the managers' too
    assert 'href="/review/"' in html  # every member reads the alarm review; managers also apply it


def test_incident_page_carries_the_incident_id(client, make_user):
    client.force_login(make_user())

    response = client.get("/incidents/42/")

    assert response.status_code == 200
    assert page_config(response)["incident_id"] == 42
    assert "frontend/js/incident.js" in response.content.decode()


def test_history_offers_only_visible_sensors(client, make_site, make_sensor, make_member):
    mine, other = make_site(), make_site()
    gym = make_sensor(mine, "Gym")
    make_sensor(other, "Hidden")
    client.force_login(make_member(mine, Role.VIEWER))

    response = client.get("/history/")

    assert response.status_code == 200
    assert [sensor["name"] for sensor in page_config(response)["sensors"]] == [gym.name]
    assert 'id="export-csv"' in response.content.decode()


def test_upload_offers_sensors_of_operator_sites_only(client, make_site, make_sensor, make_member):
    operated, viewed = make_site("Operated"), make_site("Viewed")
    make_sensor(operated, "Gym")
    make_sensor(viewed, "Lobby")
    user = make_member(operated, Role.OPERATOR)
    make_member(viewed, Role.VIEWER, user=user)
    client.force_login(user)

    response = client.get("/upload/")

    assert response.status_code == 200
    assert [sensor["name"] for sensor in page_config(response)["sensors"]] == ["Gym"]
    html = response.content.decode()
    assert "multiple" in html and 'id="u-sensor"' in html


def test_upload_explains_when_no_sensor_may_be_used(client, make_site, make_sensor, make_member):
    site = make_site()
    make_sensor(site)
    client.force_login(make_member(site, Role.VIEWER))

    html = client.get("/upload/").content.decode()

    assert "needs the operator role" in html
    assert 'id="upload-form"' not in html


def test_pages_reference_only_local_assets(client, make_user):
    client.force_login(make_user())
    for path in ["/", "/incidents/1/", "/history/", "/upload/", "/login/"]:
        html = client.get(path).content.decode()
        assert not re.search(r'(src|href)="(https?:)?//', html), path


def test_every_module_import_and_template_asset_exists():
    """No build step: what the templates and modules name must be on disk as named."""
    static = Path(__file__).resolve().parents[1] / "static" / "frontend"
    templates = Path(__file__).resolve().parents[1] / "templates" / "frontend"
    for module in (static / "js").glob("*.js"):
        for name in re.findall(r'from "\./([\w-]+\.js)"', module.read_text()):
            assert (static / "js" / name).is_file(), f"{module.name} imports missing {name}"
    for template in templates.glob("*.html"):
        for name in re.findall(r"\{% static 'frontend/([^']+)' %\}", template.read_text()):
            assert (static / name).is_file(), f"{template.name} names missing {name}"
