import pytest

PAGES = ["/", "/incidents/1/", "/history/", "/review/", "/changes/", "/upload/", "/microphone/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitor_is_sent_to_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.django_db
def test_login_page_renders_a_labelled_form(client):
    response = client.get("/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html
    assert 'autocomplete="current-password"' in html


def test_signing_in_leads_to_the_console(client, make_user):
    make_user("ana", password="s3cret-pass-word")

    response = client.post("/login/", {"username": "ana", "password": "s3cret-pass-word"})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_wrong_password_is_refused_with_a_message(client, make_user):
    make_user("ana", password="s3cret-pass-word")

    response = client.post("/login/", {"username": "ana", "password": "nope"})

    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()


def test_signing_out_needs_a_post_and_returns_to_login(client, make_user):
    client.force_login(make_user())

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_the_favicon_is_found_without_signing_in(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301 and response["Location"].endswith("frontend/outcry.svg")
