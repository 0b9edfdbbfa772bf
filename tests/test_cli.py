"""The keydesk command: contract subcommands, one-line errors with exit 2, secrets printed once."""

import io
import subprocess
import sys

import pytest

from keydesk.accounts.models import ApiToken, User
from keydesk.cli import main
from keydesk.eventlog.models import Event
from keydesk.tenants.models import Tenant


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tenant_create_prints_credentials_once(db, capsys):
    code, out, err = run(
        capsys,
        "tenant",
        "create",
        "initech",
        "--name",
        "Initech",
        "--admin-email",
        "boss@initech.test",
    )
    assert code == 0 and err == ""
    password = out.strip().splitlines()[-1].split()[-1]
    assert User.objects.get(email="boss@initech.test").check_password(password)
    code, out, err = run(
        capsys,
        "tenant",
        "create",
        "initech",
        "--name",
        "Initech",
        "--admin-email",
        "boss@initech.test",
        "--if-not-exists",
    )
    assert (code, out, err) == (0, "", "")


def test_tenant_create_with_password_on_stdin(db, capsys, monkeypatch):
    code, out, _ = run(
        capsys,
        "tenant",
        "create",
        "initech",
        "--name",
        "Initech",
        "--admin-email",
        "boss@initech.test",
        "--admin-password-stdin",
        stdin="a long passphrase here\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0 and "password" not in out
    assert User.objects.get(email="boss@initech.test").check_password("a long passphrase here")


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["tenant", "create", "acme", "--name", "A", "--admin-email", "x@y.test"],
            "already exists",
        ),
        (["tenant", "create", "new", "--name", "N", "--admin-email", "nope"], "valid email"),
        (["tenant", "create", "Bad Slug!", "--name", "N", "--admin-email", "a@b.test"], "Slug"),
        (
            ["user", "create", "--tenant", "nope", "--email", "a@b.test", "--kind", "contact"],
            "unknown tenant",
        ),
        (
            ["user", "create", "--tenant", "acme", "--email", "bad", "--kind", "contact"],
            "valid email",
        ),
        (["user", "create", "--tenant", "acme", "--email", "a@b.test"], "required"),
        (["user", "create", "--tenant", "acme", "--email", "a@b.test", "--kind", "staff"], "Role"),
        (
            [
                "user",
                "create",
                "--tenant",
                "acme",
                "--email",
                "agent@acme.test",
                "--kind",
                "contact",
            ],
            "already exists",
        ),
        (["token", "create", "--tenant", "acme", "--email", "ghost@acme.test"], "no person"),
        (["events", "verify"], "required"),
        ([], "required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(acme, capsys, argv, message):
    tenants, users = Tenant.objects.count(), User.objects.count()
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("keydesk")
    assert message in err
    assert "Traceback" not in err
    assert (Tenant.objects.count(), User.objects.count()) == (tenants, users)


def test_user_create_with_guest_and_password(acme, capsys, monkeypatch):
    code, _, _ = run(
        capsys,
        "user",
        "create",
        "--tenant",
        "acme",
        "--email",
        "g@acme.test",
        "--kind",
        "staff",
        "--role",
        "agent",
        "--guest",
        "--name",
        "Gus",
        "--password-stdin",
        stdin="another long passphrase\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0
    user = User.objects.get(email="g@acme.test")
    assert (user.is_guest, user.role, user.name) == (True, "agent", "Gus")
    assert user.check_password("another long passphrase")


def test_weak_password_on_stdin_is_refused(acme, capsys, monkeypatch):
    code, _, err = run(
        capsys,
        "user",
        "create",
        "--tenant",
        "acme",
        "--email",
        "w@acme.test",
        "--kind",
        "contact",
        "--password-stdin",
        stdin="short\n",
        monkeypatch=monkeypatch,
    )
    assert code == 2 and "at least 12 characters" in err


def test_token_create_prints_the_token_alone_on_the_last_line(acme, capsys):
    code, out, _ = run(
        capsys, "token", "create", "--tenant", "acme", "--email", "agent@acme.test", "--name", "ci"
    )
    assert code == 0
    raw = out.strip().splitlines()[-1]
    assert raw.startswith("kd_") and " " not in raw
    assert ApiToken.objects.get(user=acme.agent, name="ci")
    response = acme.client().get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_events_verify_ok_and_broken(acme, capsys):
    code, out, _ = run(capsys, "events", "verify", "--tenant", "acme")
    count = Event.objects.filter(tenant=acme.tenant).count()
    assert (code, out.strip()) == (0, f"ok: {count} events")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE eventlog_event SET target_label = 'x' WHERE seq = 2 AND tenant_id = %s",
            [acme.tenant.pk],
        )
    code, out, _ = run(capsys, "events", "verify", "--tenant", "acme")
    assert code == 1 and "#2" in out


def test_tenant_list(acme, globex, capsys):
    code, out, _ = run(capsys, "tenant", "list")
    assert code == 0
    assert [line.split("\t")[0] for line in out.strip().splitlines()] == ["acme", "globex"]


def test_help_lists_the_contract_subcommands():
    result = subprocess.run(
        [sys.executable, "-m", "keydesk.cli", "--help"], capture_output=True, text=True, check=True
    )
    for sub in ("run", "migrate", "tenant", "user", "token", "events"):
        assert sub in result.stdout


def test_missing_argument_in_a_real_process_has_no_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "keydesk.cli", "tenant", "create"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
