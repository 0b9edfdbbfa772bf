"""Reads and writes made on every request or sign-in, with their SQL built once per process."""

import weakref
from contextlib import contextmanager, nullcontext
from functools import cached_property

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Expression
from django.db.models.sql import UpdateQuery
from django.db.transaction import TransactionManagementError


class Param(Expression):
    """A named value of a prepared statement, given each time it runs.

    It stands where a value would in a filter or an update, and its SQL is a placeholder.
    The value is converted for the database by `field` (by default the queryset model's
    field of the same name), as Django converts a value compared with or saved to it. In a
    filter it is always compared with `=`: None matches nothing (the ORM would write IS NULL).
    """

    def __init__(self, name: str, field=None):
        super().__init__(output_field=field)
        self.name, self.target = name, field

    def as_sql(self, compiler, connection):
        return "%s", [self]


class _PendingWrites:
    """Writes held back within `writes_batched()`, to go out with the next statement."""

    def __init__(self):
        self.statements: list[str] = []
        self.params: list = []

    def add(self, sql: str, params: list) -> None:
        self.statements.append(sql)
        self.params.extend(params)

    def take(self) -> tuple[str, list]:
        """The held writes as one query with its parameters; none are left."""
        sql, params = "; ".join(self.statements), self.params
        self.statements, self.params = [], []
        return sql, params

    def send_before(self, execute, sql, params, many, context):
        """Execute wrapper: a statement from elsewhere (the ORM, a savepoint) goes after them."""
        if self.statements:
            if sql.startswith("ROLLBACK TO SAVEPOINT"):
                # All were held since the savepoint (making it sent the others): they are
                # undone anyway, and one that failed must not replace the error rolling back.
                self.take()
            else:
                # As a statement of its own, even before an executemany, and logged as one.
                context["cursor"].execute(*self.take())
        return execute(sql, params, many, context)


_pending_by_connection: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _sends_statements_together(wrapper) -> bool:
    # psycopg with client-side binding (Django's default) sends several statements as one
    # query and gives back each one's result. Server-side binding prepares statements one by
    # one, and SQLite runs in the process: there is no round trip to save.
    return wrapper.vendor == "postgresql" and not wrapper.settings_dict["OPTIONS"].get(
        "server_side_binding"
    )


@contextmanager
def writes_batched():
    """Within the block, writes whose outcome nobody reads go out with the next statement.

    A transaction that makes several small writes waits for the database once per statement;
    on PostgreSQL each wait costs more than the write. Inside this block, the writes made
    with `PreparedUpdate.run_batched` and `PreparedInsert.save_batched` are held back and sent
    in the same query as the next statement that needs an answer, or together at the end of
    the block. The order of all statements is kept, so the transaction sees its own writes.
    On databases that take one statement per query they run at once.

    The block must be inside a transaction, which commits after the held writes went out; an
    error in one of them is raised by the statement it went out with. An exception leaving
    the outermost block marks the transaction to roll back, even if it is caught before:
    some of the block's writes may never have gone out. (Inside it, a nested block is part
    of the outer one.)
    """
    wrapper = connections[DEFAULT_DB_ALIAS]
    if not wrapper.in_atomic_block:
        raise TransactionManagementError("writes are batched only inside a transaction")
    if wrapper in _pending_by_connection:  # an enclosing block sends them
        yield
        return
    pending = _PendingWrites()
    holds_writes = _sends_statements_together(wrapper)
    if holds_writes:
        _pending_by_connection[wrapper] = pending
    try:
        # Where nothing is held, statements need not pass through a wrapper.
        with wrapper.execute_wrapper(pending.send_before) if holds_writes else nullcontext():
            yield
            if pending.statements:
                with transaction.mark_for_rollback_on_error(), wrapper.cursor() as cursor:
                    cursor.execute(*pending.take())
    except BaseException:
        transaction.set_rollback(True)
        raise
    finally:
        _pending_by_connection.pop(wrapper, None)


def _held_back() -> _PendingWrites | None:
    return _pending_by_connection.get(connections[DEFAULT_DB_ALIAS])


def writes_are_held() -> bool:
    """Whether `run_batched` and `save_batched` hold their writes back here and now."""
    return _held_back() is not None


def _execute(cursor, sql: str, params: list) -> None:
    """Run one statement, after any writes held back for it; the cursor is left on its result."""
    pending = _pending_by_connection.get(cursor.db)
    if pending is None or not pending.statements:
        cursor.execute(sql, params)
        return
    held = len(pending.statements)
    held_sql, held_params = pending.take()
    cursor.execute(f"{held_sql}; {sql}", held_params + params)
    for _ in range(held):
        cursor.nextset()


class _Prepared:
    """SQL built once from a queryset whose values are `Param`s, run with the values given."""

    def _build(self) -> tuple[str, list]:
        raise NotImplementedError

    @cached_property
    def _sql_and_params(self) -> tuple[str, list]:
        sql, params = self._build()
        model = self.queryset.model
        for param in params:
            if isinstance(param, Param) and param.target is None:
                param.target = model._meta.get_field(param.name)
        return sql, list(params)

    @property
    def sql(self) -> str:
        return self._sql_and_params[0]

    @cached_property
    def _param_names(self) -> set[str]:
        return {param.name for param in self._sql_and_params[1] if isinstance(param, Param)}

    def _params(self, values: dict) -> list:
        _, params = self._sql_and_params
        if self._param_names != values.keys():
            names = sorted(self._param_names)
            raise TypeError(f"expected the values {names}, got {sorted(values)}")
        return [
            param.target.get_db_prep_save(values[param.name], connection)
            if isinstance(param, Param)
            else param
            for param in params
        ]


class PreparedLookup(_Prepared):
    """A queryset whose SQL is built only once; its `Param`s are given on each call.

    Django builds a query's SQL anew on every call, and for the lookups every request makes
    (its tenant, its signed-in person, its session) building costs about twice what running
    the query does; `raw()` then spends about as much again finding out which columns came
    back. Here the ORM builds the SQL once and notes the model's fields it selects; each call
    runs the SQL with the values given, converts the columns as Django does, and makes the
    model instances (`Model.from_db`, with the fields left out by `only()` deferred).
    `select_for_update()` and `values_list()` (with `row()`) carry over; `select_related()`
    and annotations do not.
    """

    def __init__(self, queryset):
        self.queryset = queryset
        self._converters_by_connection = weakref.WeakKeyDictionary()

    @cached_property
    def _compiled(self) -> tuple[str, list, list]:
        """The SQL, its parameters, and the columns it selects."""
        # A copy: compiling changes the query, which other threads may be compiling too.
        compiler = self.queryset.query.clone().get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        return sql, params, [column for column, _, _ in compiler.select]

    def _build(self) -> tuple[str, list]:
        sql, params, _ = self._compiled
        return sql, params

    @cached_property
    def _field_names(self) -> list[str]:
        model = self.queryset.model
        fields = [getattr(column, "target", None) for column in self._compiled[2]]
        in_model_order = [f for f in model._meta.concrete_fields if f in fields]
        if fields != in_model_order:
            raise ImproperlyConfigured("a prepared lookup selects the model's own fields only")
        return [field.attname for field in fields]

    def _converters(self, wrapper) -> list[tuple[int, list, object]]:
        # Per connection: a backend's converters may read their connection's settings.
        converters = self._converters_by_connection.get(wrapper)
        if converters is None:
            converters = []
            for position, column in enumerate(self._compiled[2]):
                found = wrapper.ops.get_db_converters(column) + column.get_db_converters(wrapper)
                if found:
                    converters.append((position, found, column))
            self._converters_by_connection[wrapper] = converters
        return converters

    def first(self, **values):
        return next(iter(self.all(**values)), None)

    def all(self, **values) -> list:
        """Every matching row, in the queryset's order."""
        return read_together(self.read(**values))[0]

    def _instances(self, wrapper, rows) -> list:
        names, converters = self._field_names, self._converters(wrapper)
        model = self.queryset.model
        found = []
        for row in rows:
            if converters:
                row = list(row)
                for position, functions, column in converters:
                    value = row[position]
                    for convert in functions:
                        value = convert(value, column, wrapper)
                    row[position] = value
            found.append(model.from_db(wrapper.alias, names, row))
        return found

    def read(self, **values) -> tuple["PreparedLookup", list]:
        """This lookup with its values, for `read_together()`."""
        return self, self._read_params(values)

    def _read_params(self, values: dict) -> list:
        self._field_names  # noqa: B018  (a lookup that cannot make instances fails before running)
        return self._params(values)

    def row(self, **values) -> tuple | None:
        """The row's columns as the database gives them, for a `values_list()` queryset."""
        params = self._params(values)
        with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
            _execute(cursor, self.sql, params)
            return cursor.fetchone()


def read_together(*reads: tuple[PreparedLookup, list]) -> list[list]:
    """Independent lookups (each from `PreparedLookup.read()`) in one round trip.

    Each lookup's result comes back as `all()` gives it. Where the database takes one
    statement per query (see `writes_batched`), they run one after the other.
    """
    wrapper = connections[DEFAULT_DB_ALIAS]
    queries = [reads] if _sends_statements_together(wrapper) else [[read] for read in reads]
    results = []
    for query in queries:
        if not query:
            continue
        sql = "; ".join(lookup.sql for lookup, _ in query)
        params = [value for _, values in query for value in values]
        with transaction.mark_for_rollback_on_error(), wrapper.cursor() as cursor:
            _execute(cursor, sql, params)
            results.extend(_results_of(wrapper, cursor, query))
    return results


def _results_of(wrapper, cursor, reads) -> list[list]:
    """Each lookup's instances, from a cursor left on the first one's result."""
    results = []
    for position, (lookup, _) in enumerate(reads):
        if position:
            cursor.nextset()
        results.append(lookup._instances(wrapper, cursor.fetchall()))
    return results


class PreparedUpdate(_Prepared):
    """`queryset.update(**assignments)`, its SQL built only once; `Param`s given on each run.

    For writes every sign-in or every event makes, where building the UPDATE costs more than
    running it. Assignments may be values, `Param`s or expressions (`F`, `Case`).
    """

    def __init__(self, queryset, **assignments):
        self.queryset, self.assignments = queryset, assignments

    def _build(self) -> tuple[str, list]:
        query = self.queryset.query.chain(UpdateQuery)
        query.add_update_values(self.assignments)
        return query.get_compiler(connection=connection).as_sql()

    def run(self, **values) -> int:
        """Run the UPDATE with these values of its `Param`s; the number of rows changed."""
        params = self._params(values)
        with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
            _execute(cursor, self.sql, params)
            return cursor.rowcount

    def run_committed_asynchronously(self, *reads, **values) -> tuple[int, list[list]]:
        """`run()`, with lookups (from `PreparedLookup.read()`) in the same round trip, their
        results second; outside a transaction, its commit does not wait for the disk
        (PostgreSQL's asynchronous commit, for this statement's transaction only).

        For a write whose effect nobody is told of until another transaction commits the usual
        way: that commit flushes the log up to itself, this write included. A crash before
        then can lose it, but nothing had been answered on it yet. Concurrent transactions see
        it at once, as any committed write. Inside a transaction the enclosing commit decides.
        Where statements are not sent together (see `writes_batched`) it is `run()`, then
        `read_together()`; SQLite's WAL mode with `synchronous=NORMAL` does not wait for the
        disk on commit anyway.
        """
        wrapper = connections[DEFAULT_DB_ALIAS]
        if not _sends_statements_together(wrapper):
            return self.run(**values), read_together(*reads)
        # The statements of one query are one transaction, which SET LOCAL is limited to.
        asynchronous = wrapper.get_autocommit()
        statements = ["SET LOCAL synchronous_commit TO off"] if asynchronous else []
        statements.append(self.sql)
        params = self._params(values)
        for lookup, lookup_params in reads:
            statements.append(lookup.sql)
            params.extend(lookup_params)
        with transaction.mark_for_rollback_on_error(), wrapper.cursor() as cursor:
            _execute(cursor, "; ".join(statements), params)
            if asynchronous:
                cursor.nextset()
            changed = cursor.rowcount
            if reads:
                cursor.nextset()
            return changed, _results_of(wrapper, cursor, reads)

    def run_batched(self, **values) -> None:
        """`run()`, held back for the next statement inside `writes_batched()`."""
        pending = _held_back()
        if pending is None:
            self.run(**values)
        else:
            pending.add(self.sql, self._params(values))


class PreparedInsert:
    """`instance.save(force_insert=True)` for rows written on every sign-in or event, its SQL
    built once.

    Django builds an INSERT anew for every row, and for the session, sign-in and event rows a
    sign-in writes that costs more than sending it. Field defaults and `auto_now_add` apply as
    in `save()`; no signals are sent, so only models without receivers belong here.

    With `skip_existing`, a row whose unique key is taken is not written (ON CONFLICT DO
    NOTHING, the same SQL on SQLite and PostgreSQL) and `save()` returns False. Unlike a
    failed INSERT, that leaves the caller's transaction usable, so it needs no savepoint.
    """

    def __init__(self, model, *, skip_existing: bool = False):
        meta = model._meta
        if meta.parents or any(f.generated or f.has_db_default() for f in meta.concrete_fields):
            raise ImproperlyConfigured(
                f"{meta.label}: inherited models and database defaults need Model.save()"
            )
        self.table = meta.db_table
        self.auto_pk = meta.pk if meta.pk.db_returning else None
        self.fields = [field for field in meta.concrete_fields if field is not self.auto_pk]
        self.skip_existing = skip_existing

    @cached_property
    def returns_pk(self) -> bool:
        return self.auto_pk is not None and connection.features.can_return_columns_from_insert

    @cached_property
    def sql(self) -> str:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        # Names from the model, quoted by the backend; every value is a parameter.
        sql = f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
        if self.skip_existing:
            sql += " ON CONFLICT DO NOTHING"
        if self.returns_pk:
            sql += f" RETURNING {quote(self.auto_pk.column)}"
        return sql

    def _params(self, instance) -> list:
        return [
            field.get_db_prep_save(field.pre_save(instance, True), connection)
            for field in self.fields
        ]

    def save(self, instance) -> bool:
        """Insert `instance` and give it its new primary key; False when skipped as existing."""
        params = self._params(instance)
        with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
            _execute(cursor, self.sql, params)
            if self.returns_pk:
                row = cursor.fetchone()
                if row is None:
                    return False
                setattr(instance, self.auto_pk.attname, row[0])
            elif cursor.rowcount == 0:
                return False
            elif self.auto_pk is not None:
                pk = connection.ops.last_insert_id(cursor, self.table, self.auto_pk.column)
                setattr(instance, self.auto_pk.attname, pk)
        instance._state.adding = False
        instance._state.db = connection.alias
        return True

    def save_batched(self, instance) -> None:
        """`save()`, held back for the next statement inside `writes_batched()`.

        A held-back row does not learn its primary key, and a skipped one is not told.
        """
        pending = _held_back()
        if pending is None:
            self.save(instance)
        else:
            pending.add(self.sql, self._params(instance))
