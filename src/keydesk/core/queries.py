"""Lookups made on every request, with their SQL built by the ORM once per process."""

from functools import cached_property

from django.core.exceptions import ImproperlyConfigured
from django.db import connection


class PreparedLookup:
    """`queryset.filter(field=value, **fixed)` for one row, its SQL built only once.

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
        return next(iter(self.queryset.model._default_manager.raw(self.sql, [value])), None)

    def row(self, value) -> tuple | None:
        """The row's columns as the database gives them, for a `values_list()` queryset."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [value])
            return cursor.fetchone()


class PreparedUpdate:
    """`model.objects.filter(key=...).update(field=..., ...)`, its SQL built only once.

    For the writes made many times a second (the event chain's head), where building the
    UPDATE costs more than running it. Values go through each field's own conversion.
    """

    def __init__(self, model, key: str, fields: tuple[str, ...]):
        meta = model._meta
        self.table = meta.db_table
        self.key = meta.get_field(key)
        self.fields = [meta.get_field(name) for name in fields]

    @cached_property
    def sql(self) -> str:
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in self.fields)
        # Names from the model, quoted by the backend; every value is a parameter.
        return f"UPDATE {quote(self.table)} SET {assignments} WHERE {quote(self.key.column)} = %s"  # noqa: S608

    def run(self, key, *values) -> int:
        """Update the row whose key is `key` with `values` (in the fields' order); the row count."""
        params = [
            f.get_db_prep_save(v, connection) for f, v in zip(self.fields, values, strict=True)
        ]
        params.append(self.key.get_db_prep_value(key, connection))
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            return cursor.rowcount
