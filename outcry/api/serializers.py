from django.contrib.auth import authenticate
from rest_framework import exceptions, serializers

from outcry import signin_brake
from outcry.api.fields import ModelSerializer
from outcry.models import ApiToken, User


class UserSummarySerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]


class TokenLoginSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False, write_only=True)
    name = serializers.CharField(max_length=100, required=False, default="api", help_text="A label, e.g. 'laptop'.")

    def validate(self, attrs):
        request = self.context.get("request")
        # The sign-in page's brake, same count: guesses spread over both logins add up.
        brake = signin_brake.brake_key(request, attrs["username"])
        if signin_brake.is_braked(brake):
            raise exceptions.Throttled(wait=signin_brake.FAILED_SIGN_IN_WINDOW_S, detail=signin_brake.REFUSAL_MESSAGE)
        user = authenticate(request, username=attrs["username"], password=attrs["password"])
        if user is None:  # wrong password, unknown user and disabled account answer alike
            signin_brake.count_failure(brake)
            raise serializers.ValidationError("Unable to log in with the username and password provided.")
        signin_brake.forget_failures(brake)
        attrs["user"] = user
        return attrs


class ApiTokenSerializer(ModelSerializer):
    prefix = serializers.SerializerMethodField(help_text="The token's public part, to tell tokens apart.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields

    def get_prefix(self, token: ApiToken) -> str:
        return f"{ApiToken.TOKEN_PREFIX}_{token.lookup_id}_…"


class NewApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        source="secret", read_only=True, help_text="The secret: shown in this response only, never again."
    )
    user = UserSummarySerializer(read_only=True)

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token", "user"]
        read_only_fields = fields
