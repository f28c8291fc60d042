from __future__ import annotations

from django import forms

from apps.people.timezones import zone_choices


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Your time zone", choices=(),
        help_text="Times on every page, in forms, emails and CSV exports are shown in this zone.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = zone_choices()
