from django.apps import AppConfig


class OutcryConfig(AppConfig):
    name = "outcry"
    verbose_name = "Outcry platform"
