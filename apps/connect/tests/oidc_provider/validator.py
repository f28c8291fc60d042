import json
import os

from oauth2_provider.oauth2_validators import OAuth2Validator

# username → extra claims ({"email", "email_verified", "groups", "team", "name"}), from the test.
PROFILES = json.loads(os.environ.get("PROVIDER_USERS", "[]"))


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope, "groups": "profile", "team": "profile", "aud": "openid",
    }

    def get_additional_claims(self, request):
        profile = next((p for p in PROFILES if p["username"] == request.user.username), {})
        claims = {key: profile[key] for key in ("email", "email_verified", "groups", "team", "name") if key in profile}
        # A client registered as "misissued" stands for a provider handing out a token meant
        # for another relying party: the relying party must refuse it.
        if request.client is not None and request.client.name == "misissued":
            claims["aud"] = "another-relying-party"
        return claims
