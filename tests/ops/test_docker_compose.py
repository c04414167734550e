"""docker-compose.yml describes processes that exist: every service is there with a healthcheck
(or a stated reason), volumes are declared, GPUs are reserved, and each command names a module,
queue, management command, option and file of this repository — so renaming one fails here,
not on somebody's server."""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from django.conf import settings
from django.core.management import get_commands, load_command_class

from tunery.jobs.models import BaseModel

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
TUNERY = ["migrate", "web", "worker-cpu", "worker-gpu", "engine", "beat"]
EXPECTED = TUNERY + ["postgres", "redis", "vllm"]
GPU = ["worker-gpu", "engine", "vllm"]


def command(name: str) -> list[str]:
    value = SERVICES[name]["command"]
    return value if isinstance(value, list) else shlex.split(value)


def option(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def celery_services(subcommand: str) -> list[str]:
    return [name for name in TUNERY if command(name)[:1] == ["celery"] and subcommand in command(name)]


def test_every_expected_service_is_there():
    assert set(EXPECTED) <= set(SERVICES), set(EXPECTED) - set(SERVICES)
    assert SERVICES["vllm"]["profiles"] == ["vllm"]  # the alternative engine starts only when asked


@pytest.mark.parametrize("name", EXPECTED)
def test_each_service_has_a_healthcheck_or_says_why_not(name):
    service = SERVICES[name]
    assert service.get("healthcheck", {}).get("test") or service.get("x-no-healthcheck"), name


def test_volumes_are_declared_and_shared_where_the_code_expects_them():
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            assert source.startswith((".", "/")) or source in declared, f"{name}: volume {source} is not declared"
    var_dir = next(
        line.split("TUNERY_VAR_DIR=")[1].split()[0]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if "TUNERY_VAR_DIR=" in line
    )
    for name in TUNERY:
        assert f"tunery-data:{var_dir}" in SERVICES[name]["volumes"], name  # media/ and jobs/ live under it
        assert SERVICES[name]["environment"]["TUNERY_MODEL_CACHE"].startswith(var_dir + "/")
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]


@pytest.mark.parametrize("name", GPU)
def test_gpu_services_reserve_an_nvidia_gpu(name):
    devices = SERVICES[name]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)


def test_the_image_is_built_from_a_dockerfile_that_exists():
    for name in TUNERY:
        build = SERVICES[name]["build"]
        context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = context / ("Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile"))
        assert dockerfile.is_file(), dockerfile
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "." not in line.split()[1:-1]:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_celery_commands_load_the_app_and_consume_every_queue_the_code_sends_to():
    for name in celery_services("worker") + celery_services("beat"):
        assert isinstance(find_app(option(command(name), "-A")), Celery), name  # as `celery -A` finds it
    consumed = {queue for name in celery_services("worker") for queue in option(command(name), "-Q").split(",")}
    routed = {settings.CELERY_TASK_DEFAULT_QUEUE, BaseModel._meta.get_field("gpu_queue").default}
    assert routed == {"cpu", "gpu"} and routed <= consumed


def test_worker_healthchecks_ping_their_own_worker():
    for name in celery_services("worker"):
        node = option(command(name), "-n").split("@")[0]
        assert f"-d {node}@$$HOSTNAME" in SERVICES[name]["healthcheck"]["test"][1], name


def test_beat_schedules_tasks_that_exist():
    from tunery.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_the_engine_module_exists_and_accepts_its_options():
    args = command("engine")
    assert args[:3] == ["python", "-m", "workers.engine"]
    from workers.engine.config import parser

    parsed = parser().parse_args(args[3:])  # exits (SystemExit) on an option it does not know
    assert parsed.port == 8001 and f":{parsed.port}/health" in SERVICES["engine"]["healthcheck"]["test"][-1]
    assert COMPOSE["x-tunery"]["environment"]["TUNERY_ENGINE_URL"].endswith(f"http://engine:{parsed.port}}}")


def test_manage_py_commands_exist_with_their_options():
    for name in TUNERY:
        args = command(name)
        if args[:2] != ["python", "manage.py"]:
            continue
        assert args[2] in get_commands(), args[2]
        load_command_class(get_commands()[args[2]], args[2]).create_parser("manage.py", args[2]).parse_args(args[3:])


def test_the_web_command_is_a_valid_uvicorn_command_line_whose_app_imports():
    from uvicorn.main import main as uvicorn_cli  # the click command

    args = command("web")
    assert args[0] == "uvicorn"
    uvicorn_cli.make_context("uvicorn", args[1:])  # parses every option, runs nothing
    target = next(a for a in args[1:] if ":" in a and not a.startswith("-"))
    assert target == "tunery.asgi:application" and "--app-dir" not in args
    # As the container runs it: from a folder that is not the repository, with no path flags
    # (the installed project declares its source roots).
    code = f"from uvicorn.importer import import_from_string; import_from_string({target!r})"
    result = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
