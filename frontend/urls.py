from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views
from frontend.forms import ThrottledAuthenticationForm
from frontend.microphone import MicrophonePage

urlpatterns = [
    # Pages that name no icon (the admin, the API docs) make browsers ask for /favicon.ico.
    path("favicon.ico", views.favicon),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="frontend/login.html",
            redirect_authenticated_user=True,
            authentication_form=ThrottledAuthenticationForm,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.ConsolePage.as_view(), name="console"),
    path("incidents/<int:incident_id>/", views.IncidentPage.as_view(), name="incident-page"),
    path("history/", views.HistoryPage.as_view(), name="history"),
    path("changes/", views.ChangesPage.as_view(), name="changes"),
    path("review/", views.ReviewPage.as_view(), name="review"),
    path("upload/", views.UploadPage.as_view(), name="upload"),
    path("microphone/", MicrophonePage.as_view(), name="microphone"),
]
