"""Lookups made on every request, with their SQL built by the ORM once per process."""

from functools import cached_property

from django.core.exceptions import ImproperlyConfigured


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
