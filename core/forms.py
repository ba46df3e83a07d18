from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop

# Django 6.1's label for a select's empty choice has no Japanese translation in Django itself
# yet: named here so that makemessages keeps our catalogue's translation of it.
BLANK_CHOICE_LABEL = gettext_noop("- Select an option -")


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form that sent the data, what was typed kept.

    Errors for fields the form has go under those fields; the rest go on top of the form.
    """
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
