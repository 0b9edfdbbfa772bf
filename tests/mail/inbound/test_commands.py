"""`keydesk mail listen` alone, and the listener inside `keydesk run`; both stop on a signal."""

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings

from keydesk.mail.models import InboundEmail
from tests.conftest import _free_port

from .conftest import mail
from .test_crash_safety import database_url

pytestmark = pytest.mark.django_db(transaction=True)


def environment(**extra) -> dict:
    return {
        **os.environ,
        "KEYDESK_DATABASE_URL": database_url(),
        "KEYDESK_DATA_DIR": str(settings.DATA_DIR),
        "KEYDESK_SECRET_KEY": settings.SECRET_KEY,
        "KEYDESK_NEW_ACCOUNT_DAYS": "0",
        **extra,
    }


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def send(port: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("carla@customer.test", ["support@acme.localhost"], mail().as_bytes())


def test_mail_listen_receives_until_terminated(acme_tx):
    port = _free_port()
    listener = subprocess.Popen(
        [sys.executable, "-m", "keydesk.cli", "mail", "listen"],
        env=environment(KEYDESK_SMTP_LISTEN=f"127.0.0.1:{port}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, listener)
        send(port)
        assert InboundEmail.objects.filter(tenant=acme_tx.tenant).count() == 1
    finally:
        listener.send_signal(signal.SIGTERM)
        out, err = listener.communicate(timeout=30)
    assert listener.returncode == 0, err
    assert out == f"Keydesk receives mail on 127.0.0.1:{port}.\n"


def test_mail_listen_on_a_taken_port_says_so_in_one_line(acme_tx):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "keydesk.cli", "mail", "listen"],
            env=environment(KEYDESK_SMTP_LISTEN=f"127.0.0.1:{port}"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"keydesk: cannot listen for mail on 127.0.0.1:{port}: ")


def test_a_bad_listen_address_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "keydesk.cli", "mail", "listen"],
        env=environment(KEYDESK_SMTP_LISTEN="nowhere"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "KEYDESK_SMTP_LISTEN must look like 127.0.0.1:2525" in result.stderr


def test_run_serves_mail_too_and_ctrl_c_stops_everything(acme_tx):
    web_port, smtp_port = _free_port(), _free_port()
    run = subprocess.Popen(
        [sys.executable, "-m", "keydesk.cli", "run"],
        env=environment(
            KEYDESK_PORT=str(web_port),
            KEYDESK_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
            KEYDESK_WEB_WORKERS="1",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        wait_for_port(smtp_port, run)
        wait_for_port(web_port, run)
        send(smtp_port)
        assert InboundEmail.objects.filter(tenant=acme_tx.tenant).count() == 1
    finally:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C: the whole group gets SIGINT
        run.wait(timeout=60)
    assert run.returncode == 0
    for port in (web_port, smtp_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"{port} still open"
