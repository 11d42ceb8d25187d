"""The incident API under /api/v1/ — the contract the operator console is built on.

Incidents (every member of the incident's site reads; operators and managers act)
    GET  incidents/                     list; filters: site, sensor, status (repeat or comma list),
                                        priority (idem), opened_after, opened_before (ISO 8601);
                                        ordering: opened_at, last_detection_at, updated_at,
                                        peak_score, priority_rank, status, id (prefix - for
                                        descending; default -opened_at); page, page_size
    GET  incidents/export.csv           the same filters and ordering as CSV, streamed, unpaginated
    GET  incidents/{id}/                one incident
    GET  incidents/{id}/events/         its timeline, oldest first (unpaginated list)
    POST incidents/{id}/acknowledge/    {}                                   new|on_hold → acknowledged
    POST incidents/{id}/assign/         {"assignee": <user id> | "me" | null}
    POST incidents/{id}/annotate/       {"text": "…"}                        any status
    POST incidents/{id}/hold/           {"text": "what it waits on"}         new|acknowledged → on_hold
    POST incidents/{id}/resolve/        {"resolution": confirmed_emergency|false_alarm|test|other,
                                         "note": "…" (optional)}             open → resolved
    POST incidents/{id}/reopen/         {"text": "…" (optional)}             resolved → acknowledged

Every action answers 200 with the incident JSON as it is after the action. Refusals use the API's
one error shape ``{"error": {"status", "code", "message", "fields"?}}``: 404 for an incident on a
site you cannot see, 403 when your role does not allow the action (viewers; operators assigning
someone else), 409 when the incident's state does not allow it — in particular the second of two
people acknowledging gets 409 with "Incident 12 was already acknowledged by alice at
2026-11-24 05:31:02 UTC." and nothing changes — and 400 for bad input (no resolution, empty
note, an assignee who is not an operator or manager of the site).

Incident JSON::

    {"id", "url" (path of the incident in this API), "site": {"id", "name", "slug"},
     "sensor": {"id", "name", "location"}, "status": new|acknowledged|on_hold|resolved,
     "priority": low|medium|high|critical, "peak_score", "detection_count", "opened_at",
     "last_detection_at", "waited_s" (seconds since opened while new; frozen once it leaves new),
     "acknowledged_at", "acknowledged_by": {"id", "username"} | null,
     "assignee": {"id", "username"} | null, "resolved_at", "resolved_by": {…} | null,
     "resolution" ("" while unresolved), "resolution_note", "escalation_level",
     "evidence": {"detection_id", "recording_id", "start_s", "end_s",
                  "clip_url" | null, "spectrogram_url" | null, "audio_deleted_at" | null,
                  "complete"} | null   (the peak detection),
     "updated_at",
     "allowed_actions": ["acknowledge", "assign", "annotate", "hold", "resolve", "reopen"] subset}

Timeline event JSON: {"id", "kind", "actor": {"id", "username"} | null (the system),
"from_status", "to_status" ("" unless the status changed), "text", "data", "created_at"}; kinds:
opened, detection_added, detection_rescored (a live scream's peak rose once it had ended), acknowledged,
assigned, note, held, resolved, reopened, escalated, notified.

Live updates: websocket ``/ws/console/`` (session cookie). On connect:
``{"type": "hello", "sites": [{"id", "name", "role"}]}``; then for every change on those sites
``{"type": "incident.changed", "incident": <incident JSON with allowed_actions for you>,
"event": <timeline event JSON>}``. Send ``{"type": "ping"}`` for ``{"type": "pong"}``.
Anonymous connections are closed with code 4401.

Notification channels (managers of the channel's site only; others see none)
    GET/POST          notification-channels/
    GET/PATCH/DELETE  notification-channels/{id}/
    POST              notification-channels/{id}/rotate-secret/
    {"id", "site", "kind": email|webhook, "name", "enabled", "recipients": [emails] (email),
     "url" (webhook), "notify_on": ["new", "escalation"], "secret" (webhook: only in the response
     that created or rotated it, else null)}. A channel on "new" also hears when a live incident it
     announced rises in priority (reason "priority:<p>", webhook type "incident.priority_raised").
    GET notification-deliveries/ (filters: site, channel, incident, status) and …/{id}/: the
    delivery log {"id", "site", "channel": {"id", "name", "kind"}, "incident", "reason" ("new" |
    "escalation:<n>" | "priority:<p>"), "status": pending|sending|sent|failed, "attempts", "next_attempt_at",
    "response_code", "last_error", "sent_at", "announced_priority" (the priority the message said), …}.
"""
