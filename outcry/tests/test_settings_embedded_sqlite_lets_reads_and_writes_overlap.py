"""The embedded database (SQLite) is opened the way its concurrent request and task threads need:
a reader in the middle of a read does not stop a writer from committing, and a second writer waits
its turn instead of failing."""

import threading

import pytest
from django.conf import settings
from django.db.backends.sqlite3.base import DatabaseWrapper


@pytest.fixture(autouse=True)
def _own_database_files(django_db_blocker):
    """These tests open their own SQLite files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _open(path, alias: str) -> DatabaseWrapper:
    connection = DatabaseWrapper(
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            "OPTIONS": settings.SQLITE_OPTIONS,
            "TEST": {},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
        },
        alias=alias,
    )
    connection.ensure_connection()
    return connection


def test_a_write_commits_while_a_read_transaction_is_open(tmp_path):
    writer, reader = _open(tmp_path / "outcry.sqlite3", "writer"), _open(tmp_path / "outcry.sqlite3", "reader")
    try:
        with writer.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("CREATE TABLE incident (id INTEGER PRIMARY KEY, status TEXT)")
            cursor.execute("INSERT INTO incident (status) VALUES ('new')")

        reader.set_autocommit(False)
        with reader.cursor() as cursor:  # the console reading, in the middle of its transaction
            cursor.execute("SELECT status FROM incident")
            assert cursor.fetchall() == [("new",)]

        with writer.cursor() as cursor:  # rollback journal: "database is locked" after 20 s
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("UPDATE incident SET status = 'acknowledged'")
            cursor.execute("COMMIT")
        reader.rollback()
    finally:
        reader.close()
        writer.close()


def test_a_second_writer_waits_for_the_first_instead_of_failing(tmp_path):
    path = tmp_path / "outcry.sqlite3"
    first = _open(path, "first")
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE detection (id INTEGER PRIMARY KEY)")
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("INSERT INTO detection DEFAULT VALUES")
    outcome = []

    def second_writer():
        second = _open(path, "second")
        try:
            with second.cursor() as cursor:
                cursor.execute("BEGIN IMMEDIATE")  # blocks until the first commits
                cursor.execute("INSERT INTO detection DEFAULT VALUES")
                cursor.execute("COMMIT")
            outcome.append("committed")
        finally:
            second.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive() and outcome == []  # waiting, not failed
    with first.cursor() as cursor:
        cursor.execute("COMMIT")
    thread.join(5)
    first.close()
    assert outcome == ["committed"]
