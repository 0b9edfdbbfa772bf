"""Bearer-token authentication: API tokens only, never a session or a Temporary Access Pass."""

from ninja.security import HttpBearer

from keydesk.accounts.api_tokens import token_authenticate

# Real tokens are about 60 characters; anything much longer is not worth hashing.
_MAX_TOKEN_LENGTH = 512


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer TOKEN` for a live token of this host's tenant and an active person."""

    def authenticate(self, request, token: str):
        """The token's user (also set as `request.user`), or None for a 401."""
        tenant = getattr(request, "tenant", None)
        token = token.strip()
        if tenant is None or not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        api_token = token_authenticate(tenant=tenant, raw=token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token
        return api_token.user
