"""The configuration change log: every save and delete of a tracked model (a site, sensor,
membership or notification channel) writes a ``ConfigChange`` with the acting person
(``outcry.actor``), in the same transaction as the change, whichever way it was made (API, pages,
admin, commands).

Why signals rather than an ``actor`` argument on every service: a change made anywhere, including
the Django admin, is logged, and no caller can forget to. A model is tracked with
``track_changes`` (sites' own in ``SitesConfig.ready``, alerts' channels in ``AlertsConfig.ready``).
Only the listed fields are compared; a foreign key is logged as what it points at (a username,
a site's name), not its id, so the log reads without lookups and keeps its meaning after the row
it named is gone. A secret field (a sensor's key hash, a webhook's secret) is
never written to the log: its change becomes an action (``key_issued``, ``key_revoked``,
``secret_rotated``).
Writes that bypass ``save()`` (``QuerySet.update``: heartbeats, the offline sweep) are not
configuration and are not logged.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save

from outcry.actor import current_actor
from sites.models import ChangeAction, ConfigChange, Site

# Values a created or deleted row's entry leaves out (unset fields).
UNSET = (None, "", [], {})
# (value before, value after) of a secret field -> the action its change is logged as, or None.
SecretAction = Callable[[Any, Any], str | None]


@dataclass(frozen=True)
class Tracked:
    object_type: str
    fields: tuple[str, ...]
    site_id: Callable[[models.Model], int | None]
    secrets: dict[str, SecretAction]


_tracked: dict[type[models.Model], Tracked] = {}


def track_changes(
    model: type[models.Model],
    *,
    object_type: str,
    fields: tuple[str, ...],
    site_id: Callable[[models.Model], int | None],
    secrets: dict[str, SecretAction] | None = None,
) -> None:
    _tracked[model] = Tracked(object_type=object_type, fields=fields, site_id=site_id, secrets=secrets or {})
    uid = f"sites.changelog.{model._meta.label}"
    pre_save.connect(_remember_before, sender=model, dispatch_uid=f"{uid}.pre_save")
    post_save.connect(_log_save, sender=model, dispatch_uid=f"{uid}.post_save")
    post_delete.connect(_log_delete, sender=model, dispatch_uid=f"{uid}.post_delete")


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a field value (dates as ISO 8601)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _label(model: type[models.Model], name: str, value: Any) -> Any:
    """A foreign key's id as its row's ``str`` (the id if the row is gone); other values as they are."""
    field = model._meta.get_field(name)
    if not field.many_to_one or value is None:
        return value
    target = field.related_model._base_manager.filter(pk=value).first()
    return str(target) if target is not None else value


def _labelled_pair(model: type[models.Model], name: str, pair: list) -> list:
    """[before, after] as what they name. Compared as ids, since two rows may share a name: then
    the ids are added, or the entry would read as no change."""
    labels = [_label(model, name, value) for value in pair]
    if labels[0] == labels[1] and pair[0] != pair[1]:
        labels = [f"{label} (id {value})" for label, value in zip(labels, pair, strict=True)]
    return labels


def _values(instance: models.Model, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(instance._meta.get_field(name).value_from_object(instance)) for name in names}


def _remember_before(sender, *, instance, raw=False, **kwargs) -> None:
    if raw or instance._state.adding or instance.pk is None:
        instance._changelog_before = None
        return
    tracked = _tracked[sender]
    names = (*tracked.fields, *tracked.secrets)
    before = sender._base_manager.filter(pk=instance.pk).values(*names).first()
    instance._changelog_before = {name: _plain(value) for name, value in before.items()} if before else None


def _record(tracked: Tracked, instance: models.Model, action: str, changes: dict[str, list]) -> None:
    changes = {name: _labelled_pair(type(instance), name, pair) for name, pair in changes.items()}
    actor = current_actor()
    site_id = tracked.site_id(instance)
    site_name = instance.name if isinstance(instance, Site) else _site_name(site_id)
    ConfigChange.objects.create(
        site_id=site_id,
        site_name=site_name,
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        action=action,
        object_type=tracked.object_type,
        object_id=instance.pk,
        object_repr=str(instance)[:300],
        changes=changes,
    )


def _site_name(site_id: int | None) -> str:
    if site_id is None:
        return ""
    return Site.objects.filter(pk=site_id).values_list("name", flat=True).first() or ""


def _log_save(sender, *, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    tracked = _tracked[sender]
    after = _values(instance, tracked.fields)
    if update_fields is not None:  # only what this save wrote (an unsaved attribute is no change)
        after = {name: value for name, value in after.items() if name in update_fields}
    if created:
        changes = {name: [None, value] for name, value in after.items() if value not in UNSET}
        _record(tracked, instance, ChangeAction.CREATED, changes)
        return
    before = getattr(instance, "_changelog_before", None)
    if before is None:
        return
    changes = {name: [before[name], value] for name, value in after.items() if before[name] != value}
    if changes:
        _record(tracked, instance, ChangeAction.CHANGED, changes)
    secrets_after = _values(instance, tuple(tracked.secrets))
    for name, action_of in tracked.secrets.items():
        if update_fields is not None and name not in update_fields:
            continue
        if before[name] != secrets_after[name]:
            action = action_of(before[name], secrets_after[name])
            if action:
                _record(tracked, instance, action, {})


def _log_delete(sender, *, instance, **kwargs) -> None:
    tracked = _tracked[sender]
    changes = {name: [value, None] for name, value in _values(instance, tracked.fields).items() if value not in UNSET}
    _record(tracked, instance, ChangeAction.DELETED, changes)


def sensor_key_action(before: str, after: str) -> str:
    return ChangeAction.KEY_ISSUED if after else ChangeAction.KEY_REVOKED


def secret_rotated_action(before: str, after: str) -> str | None:
    # A channel's first secret comes with its creation, which is logged as such.
    return ChangeAction.SECRET_ROTATED if before else None
