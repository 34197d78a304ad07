"""The API under /api/v1/ (its docs at /api/v1/docs, its schema at /api/v1/openapi.json) and the profile's token pages."""

from django.urls import path

from api import views
from api.endpoints import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("profile/tokens/", views.token_create, name="api_token_create"),
    path("profile/tokens/<int:token_id>/revoke/", views.token_revoke, name="api_token_revoke"),
]
