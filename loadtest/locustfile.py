"""The busy Monday: agents on the queue and review pages, customers browsing contacts and
filing requests, managers on the dashboard, and the sending pipeline's send-time API check.

The agents work without pause: their queue pages measure what two web workers can serve.
Everyone else keeps a human pace (a customer or a manager reads a page for one to three
seconds) and the sending pipeline asks at a steady rate, so the mix is a support team's
Monday rather than every user hammering at once. The client is locust's FastHttpUser, which
spends far less of the shared cores per request than the `requests`-based HttpUser.

Everyone logs in first (40 Argon2id hashes at once hold both workers for seconds, which no
Monday does to people already at work); the measured LOADTEST_SECONDS start when the last
user is in, with the statistics reset then, and the login phase is printed on its own.

Run by `python -m loadtest` (headless, loopback only); LOADTEST_API_TOKEN is a read token of
the customer, LOADTEST_REQUESTS the number of requests in the database.
"""

import os
import random
import re
import time

import gevent
from gevent.event import Event
from locust import FastHttpUser, between, constant, constant_throughput, events, task

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
MEASURED_SECONDS = int(os.environ.get("LOADTEST_SECONDS", "60"))
_everyone_in = Event()
_arrivals: list[float] = []
_started: list[float] = []


@events.test_start.add_listener
def _start(**_kw):
    _started.append(time.monotonic())


def _arrive(environment) -> None:
    """Wait until every user has logged in; the last one in starts the measured run."""
    _arrivals.append(time.monotonic())
    if len(_arrivals) == environment.runner.target_user_count:
        login = environment.stats.entries.get(("login", "POST"))
        if login is not None:
            print(
                f"login phase: {login.num_requests} logins in {_arrivals[-1] - _started[0]:.1f} s "
                f"(each {login.get_response_time_percentile(0.5):.0f} ms at the median, "
                f"{login.max_response_time:.0f} ms at most, {login.num_failures} failed); "
                f"measuring {MEASURED_SECONDS} s from now",
                flush=True,
            )
        environment.stats.reset_all()
        gevent.spawn_later(MEASURED_SECONDS, environment.runner.quit)
        _everyone_in.set()
    _everyone_in.wait()


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
        _arrive(self.environment)
        gevent.sleep(self.wait_time())  # people do not all click the moment the run starts


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

    def on_start(self):
        _arrive(self.environment)
        gevent.sleep(random.uniform(0, 0.1))  # the workers' checks do not start in step

    @task
    def send_time_check(self):
        n = random.randint(1, CONTACTS)
        self.client.get(
            f"/api/v1/addresses/c{n}.1@loadco.example",
            headers={"Authorization": f"Bearer {os.environ['LOADTEST_API_TOKEN']}"},
            name="send-time check (API)",
        )
