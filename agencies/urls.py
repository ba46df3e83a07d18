from django.urls import path

from . import views

app_name = "agencies"
urlpatterns = [
    path("choose/", views.choose_agency, name="choose"),
]
