from outcry import health


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_reports_each_check(client, db):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "channel_layer", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["database"]["vendor"] in {"sqlite", "postgresql"}
    assert all("latency_ms" in check for check in body["checks"].values())


def test_readyz_is_503_and_names_the_failing_check(client, db, monkeypatch):
    def broken():
        raise ConnectionError("database is down")

    monkeypatch.setattr(health, "_check_database", broken)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "error": "ConnectionError: database is down"}
    assert body["checks"]["channel_layer"]["ok"] is True


def test_probes_need_no_login_and_answer_only_get(client, db):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
