from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from apps.accounts.domains import normalize_domain
from apps.accounts.models import Account, DomainAlias, WebmailDomain
from apps.accounts.services import account_domain_clean, account_domain_from_website
from apps.people.models import Rep


class AccountAdminForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = [
            "name", "website", "domain", "keep_subdomain", "industry", "employees", "annual_revenue", "country",
            "region", "technologies", "segment", "status", "owner", "sdr_owner", "opportunity_owner", "cs_owner",
        ]

    def clean_domain(self):
        value = self.cleaned_data.get("domain")
        if not value:
            return None
        return account_domain_clean(value, account=self.instance if self.instance.pk else None)

    def clean(self):
        cleaned = super().clean()
        website = (cleaned.get("website") or "").strip()
        # A new account typed with only its website gets the domain from it (as the import
        # and the API do); an existing account whose domain was cleared on purpose keeps none.
        if not self.instance.pk and website and not cleaned.get("domain") and "domain" not in self.errors:
            try:
                cleaned["domain"] = account_domain_from_website(website)
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


class DomainAliasForm(forms.ModelForm):
    """Used inline on the account page (the account comes from the page) and on its own."""

    class Meta:
        model = DomainAlias
        fields = ["account", "domain"]

    def clean(self):
        cleaned = super().clean()
        account = cleaned.get("account") or (self.instance.account if self.instance.account_id else None)
        value = cleaned.get("domain")
        if not value:
            return cleaned
        try:
            domain = account_domain_clean(value, account=account if account and account.pk else None)
            if account is not None and domain == account.domain:
                raise ValidationError(f"{domain} is already this account's domain.")
        except ValidationError as error:
            self.add_error("domain", error)
            return cleaned
        cleaned["domain"] = domain
        return cleaned


class WebmailDomainForm(forms.ModelForm):
    """Normalized in the form, so a refused domain (a public suffix, not a domain) is a
    message on the field and the uniqueness check sees the stored spelling."""

    class Meta:
        model = WebmailDomain
        fields = ["domain", "note"]

    def clean_domain(self):
        return normalize_domain(self.cleaned_data.get("domain"))


class AssignOwnerForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=Rep.objects.filter(active=True), required=False, empty_label="— the pool (no owner) —"
    )
    note = forms.CharField(required=False, max_length=500, widget=forms.TextInput(attrs={"size": 60}))
