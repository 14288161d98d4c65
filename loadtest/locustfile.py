"""The busy Monday: agents on the queue and review pages, customers browsing contacts and
filing requests, managers on the dashboard, and the sending pipeline's send-time API check.

The agents work without pause: their queue pages measure what two web workers can serve.
Everyone else keeps a human pace (a customer or a manager reads a page for one to three
seconds) and the sending pipeline asks at a steady rate, so the mix is a support team's
Monday rather than every user hammering at once. The client is locust's FastHttpUser, which
spends far less of the shared cores per request than the `requests`-based HttpUser.

Run by `python -m loadtest` (headless, loopback only); LOADTEST_API_TOKEN is a read token of
the customer, LOADTEST_REQUESTS the number of requests in the database.
"""

import os
import random
import re

from locust import FastHttpUser, between, constant, constant_throughput, task

PASSWORD = "bench-password"
CUSTOMER = "customer@load.example"
AGENTS = [f"agent{i}@load.example" for i in range(3)]
MANAGER = "manager@load.example"
CONTACTS = int(os.environ.get("LOADTEST_CONTACTS", "500000"))
REQUESTS = int(os.environ.get("LOADTEST_REQUESTS", "100000"))
EVIDENCE = {
    "reason": "These people signed up on our site but the import lost the flag.",
    "never_sent": "y",
    "explicit_permission": "yes",
    "permission_details": "Each ticked an unticked newsletter box on our site form in 2025.",
    "form_links": "https://loadco.example/newsletter",
    "list_source": "website_form",
    "attested": "y",
}
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _csrf(response) -> str:
    return _CSRF.search(response.text).group(1)


class LoggedIn(FastHttpUser):
    """A person with a browser session, reading each page for one to three seconds."""

    abstract = True
    wait_time = between(1, 3)
    email = ""

    def on_start(self):
        page = self.client.get("/login", name="login page")
        self.client.post(
            "/login",
            {"email": self.email, "password": PASSWORD, "csrf_token": _csrf(page)},
            name="login",
        )


class Agent(LoggedIn):
    """Works the queue: the queue page most, a request's review page next."""

    weight = 6
    wait_time = constant(0)  # the throughput under test

    def on_start(self):
        self.email = random.choice(AGENTS)
        super().on_start()

    @task(4)
    def queue(self):
        self.client.get("/desk/", name="queue")

    @task(1)
    def queue_submitted(self):
        self.client.get("/desk/?state=submitted", name="queue (filtered)")

    @task(2)
    def review(self):
        self.client.get(f"/desk/requests/{random.randint(1, REQUESTS)}", name="review")


class Customer(LoggedIn):
    """Browses a million addresses and now and then files a small mass opt-in request."""

    weight = 3
    email = CUSTOMER

    @task(4)
    def contacts(self):
        self.client.get("/contacts", name="contacts")

    @task(2)
    def contacts_by_status(self):
        self.client.get("/contacts?status=non_marketable", name="contacts (status)")

    @task(2)
    def search(self):
        n = random.randint(1, CONTACTS)
        self.client.get(f"/contacts?q=c{n}.1@loadco.example", name="contacts (search)")

    @task(1)
    def requests(self):
        self.client.get("/requests", name="my requests")

    @task(1)
    def file_request(self):
        n = random.randint(1, CONTACTS)
        url = f"/requests/new/opt-in?q=c{n}.1%40loadco.example&fields=email"
        form = self.client.get(url, name="request form")
        self.client.post(url, {**EVIDENCE, "csrf_token": _csrf(form)}, name="file request")


class Manager(LoggedIn):
    """Watches the SLA dashboard."""

    weight = 1
    email = MANAGER

    @task
    def dashboard(self):
        self.client.get("/manager/dashboard", name="dashboard")


class SendingPipeline(FastHttpUser):
    """The sending pipeline asks, before each send, whether an address may be mailed."""

    weight = 2
    wait_time = constant_throughput(10)  # ten checks a second per pipeline worker

    @task
    def send_time_check(self):
        n = random.randint(1, CONTACTS)
        self.client.get(
            f"/api/v1/addresses/c{n}.1@loadco.example",
            headers={"Authorization": f"Bearer {os.environ['LOADTEST_API_TOKEN']}"},
            name="send-time check (API)",
        )
