"""Fewer round trips to the database: writes held back inside `writes_batched()` go out with
the next statement that needs an answer, in order, and a transaction never commits without
them; independent lookups read together go out as one query."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keydesk.accounts import lockout
from keydesk.accounts.models import AccountLockout, SignInSession, User
from keydesk.core.queries import (
    Param,
    PreparedInsert,
    PreparedLookup,
    PreparedUpdate,
    read_together,
    writes_batched,
)

_rename = PreparedUpdate(User.objects.filter(id=Param("id")), name=Param("name"))
_name_of = PreparedLookup(User.objects.filter(id=Param("id")).values_list("name"))
_person = PreparedLookup(User.objects.filter(id=Param("id")))
_insert_sign_in = PreparedInsert(SignInSession)

# Django's default PostgreSQL binding sends several statements in one query; SQLite runs
# each statement in the process, so nothing is held there.
BATCHES = connection.vendor == "postgresql"


def _names(*people) -> list[str]:
    return [User.objects.get(pk=person.pk).name for person in people]


def test_held_writes_go_out_with_the_next_prepared_statement_in_one_query(acme):
    with transaction.atomic(), writes_batched(), CaptureQueriesContext(connection) as sent:
        _rename.run_batched(id=acme.agent.pk, name="First")
        _rename.run_batched(id=acme.agent.pk, name="Second")
        _rename.run_batched(id=acme.admin.pk, name="Admin")
        # The statement that needs an answer sees every write before it, in order.
        assert _name_of.row(id=acme.agent.pk) == ("Second",)
    assert len(sent) == (1 if BATCHES else 4)
    assert _names(acme.agent, acme.admin) == ["Second", "Admin"]


def test_statements_from_the_orm_see_the_held_writes(acme):
    with transaction.atomic(), writes_batched():
        _rename.run_batched(id=acme.agent.pk, name="Renamed")
        assert User.objects.filter(name="Renamed").count() == 1
        with transaction.atomic():  # a savepoint goes after them too
            _rename.run_batched(id=acme.agent.pk, name="In a savepoint")
            assert _names(acme.agent) == ["In a savepoint"]


def test_the_end_of_the_block_sends_what_is_still_held(acme_tx):
    with transaction.atomic():
        with writes_batched():
            _rename.run_batched(id=acme_tx.agent.pk, name="Committed")
            _insert_sign_in.save_batched(
                SignInSession(
                    tenant=acme_tx.tenant,
                    user=acme_tx.agent,
                    session_key="b" * 32,
                    methods=["pwd"],
                    auth_time=timezone.now(),
                )
            )
        # Out of the block, before the commit: already written.
        assert SignInSession.objects.filter(session_key="b" * 32).exists()
    assert _names(acme_tx.agent) == ["Committed"]


def test_an_exception_leaving_the_block_rolls_the_transaction_back(acme_tx):
    before = _names(acme_tx.agent, acme_tx.admin)
    with transaction.atomic():
        _rename.run(id=acme_tx.admin.pk, name="Written before")
        try:
            with writes_batched():
                _rename.run_batched(id=acme_tx.agent.pk, name="Held")
                raise RuntimeError("the caller fails")
        except RuntimeError:
            pass  # caught: the transaction still must not commit half of the block
    assert _names(acme_tx.agent, acme_tx.admin) == before


def test_a_failing_held_write_fails_the_transaction(acme_tx):
    when = timezone.now()
    before = _names(acme_tx.agent)
    row = {"tenant": acme_tx.tenant, "user": acme_tx.agent, "methods": ["pwd"], "auth_time": when}
    with pytest.raises(IntegrityError), transaction.atomic(), writes_batched():
        _rename.run_batched(id=acme_tx.agent.pk, name="Not kept")
        _insert_sign_in.save_batched(SignInSession(session_key="d" * 32, **row))
        _insert_sign_in.save_batched(SignInSession(session_key="d" * 32, **row))
        _name_of.row(id=acme_tx.agent.pk)
    assert _names(acme_tx.agent) == before
    assert not SignInSession.objects.exists()


def test_writes_are_batched_only_inside_a_transaction(acme_tx):
    with pytest.raises(TransactionManagementError), writes_batched():
        pass
    _rename.run_batched(id=acme_tx.agent.pk, name="At once")  # outside a block: runs now
    assert _names(acme_tx.agent) == ["At once"]


_staff_of = PreparedLookup(
    User.objects.filter(tenant_id=Param("tenant_id"), kind=User.Kind.STAFF).order_by("email")
)


def test_lookups_read_together_give_what_each_gives_alone_in_one_query(acme, globex):
    alone = [_staff_of.all(tenant_id=acme.tenant.pk), _staff_of.all(tenant_id=globex.tenant.pk)]
    with CaptureQueriesContext(connection) as sent:
        together = read_together(
            _staff_of.read(tenant_id=acme.tenant.pk),
            _staff_of.read(tenant_id=globex.tenant.pk),
            _staff_of.read(tenant_id=10**9),
        )
    assert len(sent) == (1 if BATCHES else 3)
    assert together == [*alone, []]
    assert [p.email for p in together[0]] == [p.email for p in alone[0]]
    assert all(p.tenant_id == acme.tenant.pk for p in together[0])


def test_lookups_read_together_carry_the_held_writes_before_them(acme):
    with transaction.atomic(), writes_batched():
        _rename.run_batched(id=acme.agent.pk, name="Renamed first")
        (people,) = read_together(_staff_of.read(tenant_id=acme.tenant.pk))
    assert {p.name for p in people if p.pk == acme.agent.pk} == {"Renamed first"}


def test_held_writes_go_out_before_an_executemany(acme):
    with transaction.atomic(), writes_batched():
        _rename.run_batched(id=acme.agent.pk, name="Held")
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE accounts_user SET name = %s WHERE id = %s",
                [("Many one", acme.admin.pk), ("Many two", acme.contact.pk)],
            )
    assert _names(acme.agent, acme.admin, acme.contact) == ["Held", "Many one", "Many two"]


def test_writes_held_in_a_rolled_back_savepoint_are_dropped_and_the_rest_commits(acme_tx):
    row = {"tenant": acme_tx.tenant, "user": acme_tx.agent, "methods": ["pwd"]}
    with transaction.atomic(), writes_batched():
        _rename.run_batched(id=acme_tx.admin.pk, name="Kept")
        try:
            with transaction.atomic():
                _rename.run_batched(id=acme_tx.agent.pk, name="Undone")
                # Would fail if it went out: the savepoint's rollback must not send it.
                _insert_sign_in.save_batched(
                    SignInSession(session_key="e" * 32, auth_time=timezone.now(), **row)
                )
                _insert_sign_in.save_batched(
                    SignInSession(session_key="e" * 32, auth_time=timezone.now(), **row)
                )
                raise RuntimeError("the savepoint's work fails")
        except (RuntimeError, IntegrityError):  # where writes run at once, the second fails
            pass
        _rename.run_batched(id=acme_tx.contact.pk, name="Also kept")
    assert _names(acme_tx.admin, acme_tx.contact) == ["Kept", "Also kept"]
    assert _names(acme_tx.agent) != ["Undone"]
    assert not SignInSession.objects.filter(session_key="e" * 32).exists()


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_a_try_is_committed_without_waiting_for_the_disk_only_outside_a_transaction(acme_tx):
    protection = lockout.protection_for(acme_tx.tenant)
    assert lockout.reserve_attempt(acme_tx.agent, protection)
    with CaptureQueriesContext(connection) as sent:
        assert lockout.reserve_attempt(acme_tx.agent, protection)
    assert AccountLockout.objects.get(user=acme_tx.agent).failures == 2
    if BATCHES:
        assert [query["sql"].split(";")[0] for query in sent] == [
            "SET LOCAL synchronous_commit TO off"
        ]
        assert _synchronous_commit() == "on"  # for that statement's transaction only
    # Inside a transaction the try is an ordinary statement: the enclosing commit still
    # waits for the disk.
    with transaction.atomic(), CaptureQueriesContext(connection) as sent:
        assert lockout.reserve_attempt(acme_tx.agent, protection)
        if BATCHES:
            assert _synchronous_commit() == "on"
    assert not any("SET LOCAL" in query["sql"] for query in sent)
    assert AccountLockout.objects.get(user=acme_tx.agent).failures == 3


def test_lookups_made_with_the_try_give_what_they_give_alone(acme_tx):
    protection = lockout.protection_for(acme_tx.tenant)
    with CaptureQueriesContext(connection) as sent:
        taken, (agents, admins) = lockout.reserve_attempt_reading(
            acme_tx.agent,
            protection,
            _person.read(id=acme_tx.agent.pk),
            _person.read(id=acme_tx.admin.pk),
        )
    assert taken
    assert (agents, admins) == ([acme_tx.agent], [acme_tx.admin])
    if BATCHES:
        # One query with the try; the account's first try then makes its row and takes the
        # try again.
        assert 'FROM "accounts_user"' in sent[0]["sql"]
        assert not any('FROM "accounts_user"' in query["sql"] for query in sent[1:])
    # A locked account gives no try, and the lookups are still made.
    AccountLockout.objects.filter(user=acme_tx.agent).update(
        locked_until=timezone.now() + timezone.timedelta(minutes=5)
    )
    taken, (people,) = lockout.reserve_attempt_reading(
        acme_tx.agent, protection, _person.read(id=acme_tx.agent.pk)
    )
    assert not taken and people == [acme_tx.agent]
