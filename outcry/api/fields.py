"""Serializer fields whose refusals tell an integrator what would have been accepted."""

from rest_framework import serializers


class _NamesTheChoices:
    """Adds the accepted values to DRF's "is not a valid choice" message."""

    def fail(self, key, **kwargs):
        if key == "invalid_choice":
            kwargs.setdefault("choices", ", ".join(str(value) for value in self.choices))
        super().fail(key, **kwargs)


class ChoiceField(_NamesTheChoices, serializers.ChoiceField):
    default_error_messages = {
        "invalid_choice": '"{input}" is not a valid choice; use one of: {choices}.',
        "not_one_value": "Expected one value (one of: {choices}), not {kind}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, list | dict):  # str() of it would be echoed back as an unknown choice
            self.fail(
                "not_one_value",
                choices=", ".join(str(value) for value in self.choices),
                kind="a list" if isinstance(data, list) else "an object",
            )
        return super().to_internal_value(data)


class MultipleChoiceField(_NamesTheChoices, serializers.MultipleChoiceField):
    default_error_messages = {"invalid_choice": '"{input}" is not a valid choice; use one of: {choices}.'}


class ModelSerializer(serializers.ModelSerializer):
    """The project's ModelSerializer: model fields with choices get the ChoiceField above."""

    serializer_choice_field = ChoiceField
