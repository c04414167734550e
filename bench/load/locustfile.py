"""Load scenarios against Tunery's API under uvicorn (bench/load/run.sh drives them, one at a
time, each for a fixed duration; see docs/operations.md, "Load").

Tags select a scenario: `list`, `retrieve`, `create`, `usage`, `gateway` (chat through Tunery's
gateway to the fake engine) and `direct` (the same call straight to the fake engine, the
baseline the gateway's overhead is measured against). The seed's output (bench/load/seed.py)
arrives in the environment: LOAD_API_KEY, LOAD_TRAINING_FILE, LOAD_MODEL, LOAD_ENGINE_URL.
"""

import os
import random

from locust import HttpUser, between, tag, task

API_KEY = os.environ.get("LOAD_API_KEY", "")
TRAINING_FILE = os.environ.get("LOAD_TRAINING_FILE", "")
MODEL = os.environ.get("LOAD_MODEL", "")
ENGINE_URL = os.environ.get("LOAD_ENGINE_URL", "")
CHAT = {"messages": [{"role": "user", "content": "Say ok"}], "max_tokens": 1}


class ApiClient(HttpUser):
    wait_time = between(0.05, 0.15)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {API_KEY}"
        self.job_ids = [row["id"] for row in self.client.get("/v1/fine_tuning/jobs?limit=100").json()["data"]]
        self.file_ids = [row["id"] for row in self.client.get("/v1/files?limit=100").json()["data"]]

    @tag("list")
    @task
    def list_jobs(self):
        self.client.get("/v1/fine_tuning/jobs?limit=20", name="list jobs")

    @tag("list")
    @task
    def list_files(self):
        self.client.get("/v1/files?limit=20", name="list files")

    @tag("list")
    @task
    def list_jobs_second_page(self):
        self.client.get(f"/v1/fine_tuning/jobs?limit=20&after={random.choice(self.job_ids)}", name="list jobs after")

    @tag("retrieve")
    @task
    def retrieve_job(self):
        self.client.get(f"/v1/fine_tuning/jobs/{random.choice(self.job_ids)}", name="retrieve job")

    @tag("retrieve")
    @task
    def retrieve_file(self):
        self.client.get(f"/v1/files/{random.choice(self.file_ids)}", name="retrieve file")

    @tag("create")
    @task
    def create_job(self):
        body = {"model": MODEL, "training_file": TRAINING_FILE, "suffix": "load", "hyperparameters": {"n_epochs": 1}}
        self.client.post("/v1/fine_tuning/jobs", json=body, name="create job")

    @tag("usage")
    @task
    def usage(self):
        self.client.get("/v1/organization/usage?days=30", name="usage 30 days")

    @tag("gateway")
    @task
    def chat_through_gateway(self):
        self.client.post("/v1/chat/completions", json={**CHAT, "model": MODEL}, name="chat via gateway")

    @tag("direct")
    @task
    def chat_direct(self):
        self.client.post(f"{ENGINE_URL}/v1/chat/completions", json={**CHAT, "model": MODEL}, name="chat direct")
