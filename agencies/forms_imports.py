"""The upload form of the system import page."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_MEGABYTES = 10
MAX_UPLOAD_BYTES = MAX_UPLOAD_MEGABYTES * 1024 * 1024


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Formatted per form, so the help is in the language of the request.
        self.fields["file"].help_text = _(
            "UTF-8 (with or without BOM) or Shift_JIS; at most %(size)s MB."
        ) % {"size": MAX_UPLOAD_MEGABYTES}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # The whole municipality list is under 200 kB; anything this big is the wrong file.
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(size)s MB."),
                code="too_large",
                params={"size": MAX_UPLOAD_MEGABYTES},
            )
        return upload

    def file_bytes(self) -> bytes:
        upload = self.cleaned_data["file"]
        upload.seek(0)
        return upload.read()
