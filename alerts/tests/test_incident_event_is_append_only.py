import pytest

from alerts.models import IncidentEvent
from outcry.models import AppendOnlyError


def test_events_cannot_be_changed_or_deleted(make_incident):
    incident = make_incident()
    event = IncidentEvent.objects.get(incident=incident)

    event.text = "rewritten history"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        IncidentEvent.objects.filter(pk=event.pk).update(text="rewritten")
    with pytest.raises(AppendOnlyError):
        IncidentEvent.objects.filter(pk=event.pk).delete()

    assert IncidentEvent.objects.get(pk=event.pk).kind == "opened"
