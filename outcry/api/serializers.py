from django.contrib.auth import authenticate
from rest_framework import serializers

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
        user = authenticate(self.context.get("request"), username=attrs["username"], password=attrs["password"])
        if user is None:  # wrong password, unknown user and disabled account answer alike
            raise serializers.ValidationError("Unable to log in with the username and password provided.")
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
