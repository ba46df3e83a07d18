from django import forms
from django.utils.translation import gettext_lazy as _

from .services import is_totp_code, normalise_code


class CodeForm(forms.Form):
    """A one-time code: 6 digits from the app, or a backup code. Spaces, hyphens and full-width
    characters are accepted as typed (normalised, NFKC)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text=_("The 6 digits your authenticator app shows now, or one of your backup codes."),
    )

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Enter the code."), code="required")
        return code


class ConfirmDeviceForm(forms.Form):
    """The first code from a newly added authenticator: 6 digits only."""

    code = forms.CharField(
        label=_("6-digit code from the app"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if not is_totp_code(code):
            raise forms.ValidationError(
                _("Enter the 6 digits the app shows (spaces are fine)."), code="format"
            )
        return code


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
