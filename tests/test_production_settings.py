import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "TUNERY_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 64 + "-not-a-real-secret-but-long-and-random-enough",
    "TUNERY_API_KEY_PEPPER": "pepper-for-the-check",
    "DJANGO_ALLOWED_HOSTS": "tunery.example.com",
    "DATABASE_URL": "postgres://u@127.0.0.1:5432/unused",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def test_production_mode_passes_check_deploy():
    env = {**os.environ, **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, **PRODUCTION_ENV}
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set in production" in result.stderr
