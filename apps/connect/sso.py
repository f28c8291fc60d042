"""OpenID Connect sign-on beside passwords (mozilla-django-oidc as the relying party).

What this adds to the library, and why:
- The ID token is checked for audience, issuer, expiry and issued-at (the library decodes
  with `verify_aud` off and lets an expired token escape as an uncaught exception).
- Users are matched or created by a *verified* email only (`email_verified` true), so an
  identity provider that lets people type any address cannot take over a rep's login.
- The groups claim decides the role through `SsoRoleMapping` rows ops edit; a user whose
  groups map to nothing gets no access. The IdP is the source of truth at every sign-on:
  role, role group and (when given) team are brought in step each time.
- Every attempt is recorded (`SsoLogin`) with the reason of a refusal.

The token exchange, JWKS and userinfo requests go only to the endpoints ops configure
(OIDC_OP_*) and are synchronous by nature (the user waits for them), so they do not go
through the outbox; OIDC_TIMEOUT bounds each one.
"""

from __future__ import annotations

import logging

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from apps.connect.models import SsoLogin, SsoRoleMapping
from apps.people.models import Rep, Team
from apps.people.roles import ROLE_GROUP

logger = logging.getLogger(__name__)

# When a user's groups map to several roles, the one with the widest access wins.
ROLE_PRECEDENCE = [Rep.Role.OPS, Rep.Role.MANAGER, Rep.Role.AE, Rep.Role.SDR]


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", "") and getattr(settings, "OIDC_OP_AUTHORIZATION_ENDPOINT", ""))


class SsoRefused(PermissionDenied):
    """Django's authenticate() stops at PermissionDenied and reports a failed login."""


def _claim_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def sso_role_for(*, claims: dict) -> tuple[str | None, Team | None]:
    """The role and team the claims give: (None, None) when no group is mapped."""
    groups = _claim_list(claims.get(getattr(settings, "OIDC_GROUPS_CLAIM", "groups")))
    lowered = {g.lower() for g in groups}
    mappings = [m for m in SsoRoleMapping.objects.select_related("team") if m.claim_value.lower() in lowered]
    if not mappings:
        return None, None
    mappings.sort(key=lambda m: (ROLE_PRECEDENCE.index(m.role), m.claim_value.lower()))
    best = mappings[0]
    team = best.team
    team_claim = getattr(settings, "OIDC_TEAM_CLAIM", "")
    if team_claim and claims.get(team_claim):
        named = Team.objects.filter(name__iexact=str(claims[team_claim]).strip()).first()
        if named is not None:
            team = named
    return best.role, team


def _verified(claims: dict) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _display_name(claims: dict, email: str) -> str:
    name = (claims.get("name") or " ".join(
        part for part in (claims.get("given_name"), claims.get("family_name")) if part
    )).strip()
    return (name or email.split("@")[0])[:150]


def _unique_owner_name(name: str, email: str) -> str:
    if not Rep.objects.filter(owner_name__iexact=name).exists():
        return name
    return f"{name} ({email})"[:150]


def _unique_username(email: str) -> str:
    User = get_user_model()
    base, n, username = email[:140], 1, email[:140]
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def sso_user_sync(*, user, claims: dict, role: str, team: Team | None):
    """Bring the user's rep, role group and team in step with the provider's claims."""
    email = claims["email"].strip().lower()
    with transaction.atomic():
        User = get_user_model()
        user = User.objects.select_for_update().get(pk=user.pk)
        changed = []
        if not user.is_staff:
            user.is_staff = True
            changed.append("is_staff")
        if user.email != email:
            user.email = email
            changed.append("email")
        if changed:
            user.save(update_fields=changed)
        rep = Rep.objects.select_for_update().filter(user=user).first()
        if rep is None:
            rep = Rep.objects.create(
                user=user, owner_name=_unique_owner_name(_display_name(claims, email), email), role=role, team=team
            )
        else:
            fields = []
            if rep.role != role:
                rep.role = role
                fields.append("role")
            if team is not None and rep.team_id != team.pk:
                rep.team = team
                fields.append("team")
            if fields:
                rep.save(update_fields=fields)
        role_groups = list(Group.objects.filter(name__in=ROLE_GROUP.values()))
        user.groups.remove(*[g for g in role_groups if g.name != ROLE_GROUP[role]])
        user.groups.add(*[g for g in role_groups if g.name == ROLE_GROUP[role]])
    return user


class SsoBackend(OIDCAuthenticationBackend):
    """The relying party's authentication backend (AUTHENTICATION_BACKENDS)."""

    def __init__(self, *args, **kwargs):
        # Django builds every backend afresh for each permission check (auth.get_backends),
        # about a hundred times on an admin page with its menus, and the parent's __init__
        # reads seven settings each time. They are read when something first needs them
        # (a login, get_user); see __getattr__.
        pass

    def __getattr__(self, name):
        # Only reached for attributes not set yet: the relying-party settings and UserModel.
        if (name.startswith("OIDC_") or name == "UserModel") and not self.__dict__.get("_configured"):
            self.__dict__["_configured"] = True
            OIDCAuthenticationBackend.__init__(self)
            return getattr(self, name)
        raise AttributeError(name)

    def _refuse(self, reason: str, claims: dict | None = None) -> None:
        claims = claims or {}
        SsoLogin.objects.create(
            email=str(claims.get("email", ""))[:254], subject=str(claims.get("sub", ""))[:255],
            outcome=SsoLogin.Outcome.REFUSED, reason=reason[:500],
            groups=_claim_list(claims.get(getattr(settings, "OIDC_GROUPS_CLAIM", "groups"))),
        )
        if getattr(self, "request", None) is not None:
            self.request.sso_refusal = reason
        logger.warning("Single sign-on refused: %s", reason)
        raise SsoRefused(reason)

    def authenticate(self, request, **kwargs):
        # Password logins pass through here too; only the OIDC callback carries code + state.
        if request is None or not sso_enabled() or "code" not in request.GET or "state" not in request.GET:
            return None
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload, key):
        try:
            header = jwt.get_unverified_header(payload)
        except jwt.InvalidTokenError as error:
            self._refuse(f"The ID token is not a JWT ({error}).")
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            self._refuse(f"The ID token is signed with {header.get('alg')!r}, expected {self.OIDC_RP_SIGN_ALGO!r}.")
        issuer = getattr(settings, "OIDC_OP_ISSUER", "") or None
        try:
            return jwt.decode(
                payload, key, algorithms=[self.OIDC_RP_SIGN_ALGO], audience=self.OIDC_RP_CLIENT_ID,
                issuer=issuer, leeway=float(getattr(settings, "OIDC_LEEWAY_SECONDS", 60)),
                options={"require": ["exp", "iat", "aud", "sub"] + (["iss"] if issuer else [])},
            )
        except jwt.ExpiredSignatureError:
            self._refuse("The ID token has expired.")
        except jwt.InvalidAudienceError:
            self._refuse(f"The ID token was issued for another client (audience is not {self.OIDC_RP_CLIENT_ID}).")
        except jwt.InvalidIssuerError:
            self._refuse(f"The ID token comes from another issuer (expected {issuer}).")
        except jwt.InvalidTokenError as error:
            self._refuse(f"The ID token is invalid: {error}.")

    def verify_claims(self, claims):
        if not claims.get("email"):
            self._refuse("The provider sent no email address.", claims)
        if not _verified(claims):
            self._refuse(f"The provider has not verified the email address {claims['email']}.", claims)
        role, _team = sso_role_for(claims=claims)
        if role is None:
            groups = ", ".join(_claim_list(claims.get(getattr(settings, "OIDC_GROUPS_CLAIM", "groups")))) or "none"
            self._refuse(f"No role is mapped for {claims['email']}'s groups ({groups}); ask ops to map one.", claims)
        return True

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(email__iexact=claims["email"].strip())

    def _record(self, user, claims, outcome):
        SsoLogin.objects.create(
            email=claims["email"][:254], subject=str(claims.get("sub", ""))[:255], outcome=outcome, user=user,
            groups=_claim_list(claims.get(getattr(settings, "OIDC_GROUPS_CLAIM", "groups"))),
        )

    def create_user(self, claims):
        role, team = sso_role_for(claims=claims)
        email = claims["email"].strip().lower()
        with transaction.atomic():
            user = self.UserModel(username=_unique_username(email), email=email)
            name = _display_name(claims, email).split(" ", 1)
            user.first_name, user.last_name = name[0][:150], (name[1] if len(name) > 1 else "")[:150]
            user.is_staff = True
            user.set_unusable_password()
            user.save()
            user = sso_user_sync(user=user, claims=claims, role=role, team=team)
            self._record(user, claims, SsoLogin.Outcome.CREATED)
        return user

    def update_user(self, user, claims):
        if not user.is_active:
            self._refuse(f"The portal user {user.username} is deactivated.", claims)
        role, team = sso_role_for(claims=claims)
        with transaction.atomic():
            user = sso_user_sync(user=user, claims=claims, role=role, team=team)
            self._record(user, claims, SsoLogin.Outcome.SIGNED_IN)
        return user

    def get_or_create_user(self, access_token, id_token, payload):
        # The library turns "several users share this email" into a silent None; say why.
        try:
            return super().get_or_create_user(access_token, id_token, payload)
        except SuspiciousOperation as error:
            self._refuse(f"Sign-on refused: {error}.")


class SsoStartView(OIDCAuthenticationRequestView):
    """/oidc/authenticate/: 404 while sign-on is not configured."""

    def __init__(self, *args, **kwargs):
        if not sso_enabled():
            self._disabled = True
            return
        self._disabled = False
        super().__init__(*args, **kwargs)

    def get(self, request):
        if self._disabled:
            raise Http404("Single sign-on is not configured.")
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """/oidc/callback/: a refused sign-on says why (403), instead of a bare redirect."""

    def get(self, request):
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        return super().get(request)

    def login_failure(self):
        reason = getattr(self.request, "sso_refusal", "") or "The identity provider did not complete the sign-on."
        return render(self.request, "connect/sso_refused.html", {"reason": reason, "title": "Sign-on refused"},
                      status=403)
