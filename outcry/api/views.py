from django.urls import NoReverseMatch
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from outcry.api.serializers import ApiTokenSerializer, NewApiTokenSerializer, TokenLoginSerializer
from outcry.api.throttles import CacheTolerantScopedRateThrottle
from outcry.models import ApiToken
from outcry.selectors import api_token_list
from outcry.services import api_token_create, api_token_revoke


class ApiRootView(APIView):
    """The endpoints of this API version, by name."""

    permission_classes = [AllowAny]
    endpoints: dict[str, str] = {}  # {name shown: URL name}, set by outcry.urls from each app's api urls

    @extend_schema(
        responses=inline_serializer("ApiRoot", {"endpoints": serializers.DictField(child=serializers.URLField())})
    )
    def get(self, request, format=None):
        endpoints = {}
        for name, url_name in self.endpoints.items():
            try:
                endpoints[name] = reverse(url_name, request=request, format=format)
            except NoReverseMatch:
                continue
        return Response({"endpoints": endpoints})


class TokenLoginView(APIView):
    """Exchange a username and password for a new API token (its secret is shown once)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [CacheTolerantScopedRateThrottle]
    throttle_scope = "token_login"
    serializer_class = TokenLoginSerializer

    @extend_schema(
        request=TokenLoginSerializer,
        responses={201: NewApiTokenSerializer, 400: OpenApiResponse(description="Wrong username or password.")},
        auth=[],
    )
    def post(self, request):
        serializer = TokenLoginSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, secret = api_token_create(user=serializer.validated_data["user"], name=serializer.validated_data["name"])
        token.secret = secret
        return Response(NewApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Your own API tokens (never their secrets). DELETE revokes one."""

    queryset = ApiToken.objects.none()
    serializer_class = ApiTokenSerializer
    ordering_fields = ["created_at", "last_used_at", "name"]

    def get_queryset(self):
        return api_token_list(user=self.request.user)

    def perform_destroy(self, instance: ApiToken) -> None:
        api_token_revoke(token=instance)
