"""Start the embedded default: migrate, seed the demo, then the web server, a Celery worker and
the beat scheduler as child processes. Ctrl-C (or any child dying) stops them all.

Only for one machine: the filesystem broker and SQLite are not for production (see README).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ADDRESS = os.environ.get("TSUNAGU_ADDRESS", "127.0.0.1:8000")


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if os.environ.get("DJANGO_ENV", "development") != "development":
        sys.exit("bin/run is the embedded default; deploy production with docker-compose.yml.")
    manage("migrate", "--no-input", "-v", "0")
    manage("seed_demo")
    var = ROOT / "var"
    children = {
        "web": [PYTHON, "manage.py", "runserver", ADDRESS, "--noreload"],
        # -B embeds beat in the worker: exactly one scheduler. The solo pool keeps one SQLite
        # writer in the worker; that is plenty for one machine.
        "worker": [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-B",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--schedule",
            str(var / "celerybeat-schedule"),
        ],
    }
    # The demo's reminders are due already (seed_demo made them): sweep when the worker is
    # ready, not at the next five-minute mark, so they reach var/mail/ within a minute.
    env = {"REMINDERS_SWEEP_ON_WORKER_START": "true", **os.environ}
    procs = {
        name: subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, env=env)
        for name, cmd in children.items()
    }
    print(f"\nTsunagu is running on http://{ADDRESS}/ — press Ctrl-C to stop.\n", flush=True)

    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping the rest.", flush=True)
                exit_code = proc.returncode or 1
                stopping = True
        time.sleep(0.5)

    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    print("Stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
