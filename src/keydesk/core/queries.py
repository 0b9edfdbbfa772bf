"""Lookups and updates made on every request, with their SQL built once per process."""

from functools import cached_property

from django.core.exceptions import ImproperlyConfigured
from django.db import connection


class PreparedLookup:
    """`queryset.filter(field=value, **fixed)`, its SQL built only once.

    Django builds a query's SQL anew on every call, and for the lookups every request makes
    (its tenant, its signed-in person, its session) building costs about twice what running
    the query does. Here the ORM builds the SQL once with a stand-in value, and each call
    runs it with the real value through `raw()`, which maps the columns back onto the model.
    `queryset` is a model or a queryset of one (`select_for_update()` carries over).
    """

    def __init__(self, queryset, field: str, stand_in, **fixed):
        if not hasattr(queryset, "query"):
            queryset = queryset._default_manager.all()
        self.queryset, self.field, self.stand_in, self.fixed = queryset, field, stand_in, fixed

    @cached_property
    def sql(self) -> str:
        query = self.queryset.filter(**{self.field: self.stand_in}, **self.fixed)
        sql, params = query.query.sql_with_params()
        if list(params) != [self.stand_in]:
            raise ImproperlyConfigured(f"{self.field} must be the lookup's only parameter")
        return sql

    def first(self, value):
        return next(iter(self.all(value)), None)

    def all(self, value) -> list:
        """Every matching row, in the queryset's order."""
        return list(self.queryset.model._default_manager.raw(self.sql, [value]))

    def row(self, value) -> tuple | None:
        """The row's columns as the database gives them, for a `values_list()` queryset."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [value])
            return cursor.fetchone()


class PreparedUpdate:
    """`model.objects.filter(key=..., ...).update(field=..., ...)`, its SQL built only once.

    For writes every sign-in or every event makes, where building the UPDATE costs more than
    running it. Values go through each field's own conversion to the database's form.
    """

    def __init__(self, model, *, fields: tuple[str, ...], keys: tuple[str, ...]):
        meta = model._meta
        self.table = meta.db_table
        self.fields = [meta.get_field(name) for name in fields]
        self.keys = [meta.get_field(name) for name in keys]

    @cached_property
    def sql(self) -> str:
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in self.fields)
        condition = " AND ".join(f"{quote(key.column)} = %s" for key in self.keys)
        # Names from the model, quoted by the backend; every value is a parameter.
        return f"UPDATE {quote(self.table)} SET {assignments} WHERE {condition}"  # noqa: S608

    def run(self, values: tuple, keys: tuple) -> int:
        """Set the fields to `values` where the keys equal `keys` (both in order); the row count."""
        params = [
            f.get_db_prep_save(v, connection) for f, v in zip(self.fields, values, strict=True)
        ]
        params += [k.get_db_prep_value(v, connection) for k, v in zip(self.keys, keys, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            return cursor.rowcount


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

    def save(self, instance) -> bool:
        """Insert `instance` and give it its new primary key; False when skipped as existing."""
        params = [
            field.get_db_prep_save(field.pre_save(instance, True), connection)
            for field in self.fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
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
