"""Domain errors of the incident workflow. The API maps each to one HTTP status (see alerts.api)."""


class IncidentError(Exception):
    """Base: ``message`` is shown to the person as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class IncidentActionForbidden(IncidentError):
    """The user's role at the incident's site does not allow the action (HTTP 403)."""


class IncidentStateConflict(IncidentError):
    """The incident is not in a state the action starts from, e.g. someone else got there first
    (HTTP 409). The message says what the state is and, where it applies, who set it and when."""


class IncidentInvalidInput(IncidentError):
    """The action's input is wrong: no resolution, empty note, an assignee who cannot act (HTTP 400)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field
