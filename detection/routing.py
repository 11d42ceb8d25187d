from django.urls import path

from detection.streaming.consumer import SensorStreamConsumer
from detection.streaming.protocol import STREAM_PATH

websocket_urlpatterns = [path(STREAM_PATH, SensorStreamConsumer.as_asgi())]
