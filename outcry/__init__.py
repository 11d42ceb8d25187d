"""Outcry platform package (named `outcry`, not `platform`, which would shadow the stdlib module)."""

from outcry.celery import app as celery_app

__all__ = ["celery_app"]
