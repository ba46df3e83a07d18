"""A task round trip through the real Redis broker and a real worker process."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery.backends.redis import RedisBackend

from accounts.tasks import ping
from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_worker():
    """A real `celery worker` process on its own queue, stopped after the test."""
    redis_url = os.environ["REDIS_URL"]
    queue = f"test-{uuid.uuid4().hex}"
    env = {**os.environ, "REDIS_URL": redis_url, "CELERY_RESULT_BACKEND": redis_url}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield queue, redis_url
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@pytest.mark.redis
def test_a_task_goes_through_redis_to_a_worker_process_and_back(redis_worker):
    queue, redis_url = redis_worker
    assert celery_app.conf.broker_url == redis_url, "the app must use the real Redis broker"
    assert not celery_app.conf.task_always_eager

    sent = ping.apply_async(queue=queue)
    result = celery_app.AsyncResult(sent.id, backend=RedisBackend(app=celery_app, url=redis_url))

    assert result.get(timeout=60) == "pong"
    assert result.status == "SUCCESS"
