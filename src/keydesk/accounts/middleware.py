"""Session lifetimes per tenant, and the device cookie a sign-in sets."""

from django.contrib.auth.models import AnonymousUser

from .sessions import DEVICE_COOKIE, DEVICE_COOKIE_AGE, end_session, session_expiry_reason


class SessionLifetimeMiddleware:
    """Ends sessions past the tenant's idle or absolute limit; sets a new device's cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and getattr(request, "tenant", None) is not None:
            reason = session_expiry_reason(request, user)
            if reason is not None:
                end_session(request, user, reason=reason)
                request.user = AnonymousUser()
        response = self.get_response(request)
        device_id = getattr(request, "new_device_id", None)
        if device_id:
            response.set_cookie(
                DEVICE_COOKIE,
                device_id,
                max_age=DEVICE_COOKIE_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
