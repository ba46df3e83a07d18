import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_health_answers_without_login_and_checks_database_and_broker(client):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_health_reports_a_broker_it_cannot_reach(client, settings):
    from config.celery import app as celery_app

    # A port nothing listens on: the health check must say so with a 503, not hang or 500.
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    try:
        response = client.get(reverse("health"))
    finally:
        celery_app.conf.broker_url = original

    assert response.status_code == 503
    assert response.json()["broker"] == "fail"
    assert response.json()["database"] == "ok"
