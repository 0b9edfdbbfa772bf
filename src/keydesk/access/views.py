"""Account › Security › Access lists: the rules, their CSV import and export, the rule tester."""

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from keydesk.accounts.permissions import Perm
from keydesk.core.errors import ApplicationError
from keydesk.core.http import client_ip
from keydesk.web.shortcuts import (
    form_error,
    paginate,
    permission_required,
    render_page_or_fragment,
)

from . import forms
from .models import ACTION_LABELS
from .selectors import rule_get, rule_list, rules_export_csv
from .services import ImportFailed, rule_create, rule_delete, rule_update, rules_import_csv
from .tester import rules_try

RULES_PER_PAGE = 50
# Short enough for a table column; the form says "IP address or network" in full.
KIND_LABELS = {"ip": "IP", "domain": "Domain", "email": "Email", "language": "Language"}


def _posted(request):
    """The submitted data, also when it is empty (a form of checkboxes left unticked)."""
    return request.POST if request.method == "POST" else None


@permission_required(Perm.SECURITY_MANAGE)
@require_GET
def rule_list_view(request):
    """Every rule of the helpdesk, filtered and paged; htmx swaps only the results."""
    form = forms.RuleFilterForm(request.GET)
    filters = form.selector_filters()
    page = paginate(request, rule_list(tenant=request.tenant, **filters), RULES_PER_PAGE)
    for rule in page.object_list:
        rule.kind_label = KIND_LABELS[rule.kind]
        rule.action_labels = [ACTION_LABELS.get(action, action) for action in rule.actions]
    context = {
        "form": form,
        "page": page,
        "filtered": any(filters.values()),
        "now": timezone.now(),
    }
    return render_page_or_fragment(
        request, "access/rule_list.html", "access/_rule_results.html", context
    )


@permission_required(Perm.SECURITY_MANAGE)
@require_http_methods(["GET", "POST"])
def rule_create_view(request):
    """Add a rule; one that would refuse the admin's own sign-in waits for a confirmation."""
    form = forms.RuleForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            rule = rule_create(
                tenant=request.tenant,
                actor=request.user,
                request=request,
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Rule added: {rule.list_type} {rule.kind} {rule.value}.")
            return redirect("access:rule_list")
    return render(request, "access/rule_form.html", {"form": form, "rule": None})


@permission_required(Perm.SECURITY_MANAGE)
@require_http_methods(["GET", "POST"])
def rule_edit_view(request, rule_id: int):
    """Change a rule; the same confirmation as adding when it would refuse the admin."""
    rule = rule_get(tenant=request.tenant, rule_id=rule_id)
    form = forms.RuleForm(_posted(request), initial=forms.RuleForm.initial_for(rule))
    if request.method == "POST" and form.is_valid():
        try:
            rule_update(rule=rule, actor=request.user, request=request, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
            # The service set the new values on this instance before its transaction rolled
            # back: the page heading shows the rule as it is saved.
            rule = rule_get(tenant=request.tenant, rule_id=rule_id)
        else:
            messages.success(request, f"Rule saved: {rule.list_type} {rule.kind} {rule.value}.")
            return redirect("access:rule_list")
    return render(request, "access/rule_form.html", {"form": form, "rule": rule})


@permission_required(Perm.SECURITY_MANAGE)
@require_http_methods(["GET", "POST"])
def rule_delete_view(request, rule_id: int):
    """Confirm, then delete a rule."""
    rule = rule_get(tenant=request.tenant, rule_id=rule_id)
    form = forms.RuleDeleteForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        described = f"{rule.list_type} {rule.kind} {rule.value}"
        try:
            rule_delete(rule=rule, actor=request.user, request=request, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Rule deleted: {described}.")
            return redirect("access:rule_list")
    return render(
        request, "access/rule_delete.html", {"form": form, "rule": rule, "now": timezone.now()}
    )


class SizeLimitedUpload(FileUploadHandler):
    """Stops reading a file past `limit` bytes, so an oversized upload is never stored whole.

    The rest of the body is still read and dropped (`connection_reset=False`), so the browser
    gets the page that explains the refusal rather than a reset connection.
    """

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler builds the file


# Django reads the body for the CSRF check, before the view could add its upload handler;
# so the check is made by `csrf_protect` inside, once the handler is in place (Django's
# documented way for custom upload handlers).
@csrf_exempt
@permission_required(Perm.SECURITY_MANAGE)
@require_http_methods(["GET", "POST"])
def rules_import_view(request):
    """Upload a CSV of rules; every row is checked first, and one bad row imports nothing."""
    limit = SizeLimitedUpload(request, forms.MAX_IMPORT_BYTES)
    request.upload_handlers.insert(0, limit)
    return _rules_import(request, limit)


@csrf_protect
def _rules_import(request, limit: SizeLimitedUpload):
    files = request.FILES if request.method == "POST" else None
    form = forms.RuleImportForm(_posted(request), files, too_large=limit.exceeded)
    bad_lines: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            count = rules_import_csv(
                tenant=request.tenant,
                actor=request.user,
                text=data["file"],
                replace=data["replace"],
                confirm_self_lockout=data["confirm_self_lockout"],
                request=request,
            )
        except ImportFailed as exc:
            # Every line, not the shortened message the API gets.
            bad_lines = exc.lines
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            replaced = " All earlier rules were removed." if data["replace"] else ""
            messages.success(
                request, f"{count} rule{'s' if count != 1 else ''} imported.{replaced}"
            )
            return redirect("access:rule_list")
    return render(request, "access/rules_import.html", {"form": form, "bad_lines": bad_lines})


@permission_required(Perm.SECURITY_MANAGE)
@require_GET
def rules_export_view(request):
    """Every rule as CSV, in the columns the import reads."""
    body = rules_export_csv(tenant=request.tenant)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    filename = f"access-rules-{request.tenant.slug}-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@permission_required(Perm.SECURITY_MANAGE)
@require_GET
def rule_tester_view(request):
    """Try an IP, email, language and action against the rules; nothing is recorded."""
    submitted = "action" in request.GET
    form = forms.RuleTesterForm(
        request.GET if submitted else None,
        initial={"ip": client_ip(request) or "", "action": "login", "audience": forms.AUTO},
    )
    answer = None
    if submitted and form.is_valid():
        answer = rules_try(tenant=request.tenant, **form.cleaned_data)
    context = {"form": form, "answer": answer}
    return render_page_or_fragment(request, "access/tester.html", "access/_tester.html", context)
