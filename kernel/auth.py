"""FastAPI dependencies: `CurrentUser` and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from auth.tokens import InvalidToken, Principal, verify_token
from events.envelope import utc_now
from kernel.problems import Problem

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_bearer = HTTPBearer(auto_error=False, description="A token from `leadflow token issue`.")


def current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The caller named by the bearer token; 401 without a valid one."""
    if credentials is None:
        raise Problem(401, "Authentication required", "send `Authorization: Bearer <token>`", headers=_CHALLENGE)
    if not credentials.credentials.isascii():  # tokens are base64url and dots; the signature check wants ASCII
        raise Problem(401, "Invalid token", "malformed token", headers=_CHALLENGE)
    secret = request.app.state.settings.secret_key.get_secret_value()
    try:
        return verify_token(secret, credentials.credentials, utc_now())
    except InvalidToken as error:
        raise Problem(401, "Invalid token", str(error), headers=_CHALLENGE) from None


CurrentUser = Annotated[Principal, Depends(current_user)]


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only `roles` (and admin) through, with 403 otherwise."""

    def check(user: CurrentUser) -> Principal:
        if user.role not in roles and user.role != "admin":
            raise Problem(403, "Forbidden", f"this needs one of the roles {', '.join(roles)}; you are {user.role}")
        return user

    return check
