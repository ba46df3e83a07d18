import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
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


# The values an integer key can hold, by the key field's type. Auto fields start at 1.
_INTEGER_KEY_RANGES = {
    "SmallAutoField": (1, 2**15 - 1),
    "AutoField": (1, 2**31 - 1),
    "BigAutoField": (1, 2**63 - 1),
    "SmallIntegerField": (-(2**15), 2**15 - 1),
    "IntegerField": (-(2**31), 2**31 - 1),
    "BigIntegerField": (-(2**63), 2**63 - 1),
    "PositiveSmallIntegerField": (0, 2**15 - 1),
    "PositiveIntegerField": (0, 2**31 - 1),
    "PositiveBigIntegerField": (0, 2**63 - 1),
}
_DECIMAL = re.compile(r"-?[1-9][0-9]*|0", re.ASCII)


def integer_key_range(model, to_field_name: str | None) -> tuple[int, int] | None:
    """(lowest, highest) value of the field a model choice field looks its choices up by, or
    None when that field is not an integer (e.g. a UUID, which validates itself)."""
    field = model._meta.get_field(to_field_name) if to_field_name else model._meta.pk
    while field.is_relation:  # a key that is itself a key to another model (e.g. a parent link)
        field = field.target_field
    return _INTEGER_KEY_RANGES.get(field.get_internal_type())


def is_integer_key(value, key_range: tuple[int, int]) -> bool:
    """Whether ``value`` is what a select of integer keys posts: the plain decimal form of a
    number within the key's range (no sign unless negative, no leading zero, no exponent, no
    full-width or other non-ASCII digits, no spaces)."""
    lowest, highest = key_range
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        too_long = len(value) > max(len(str(lowest)), len(str(highest)))
        if too_long or not _DECIMAL.fullmatch(value):
            return False
        value = int(value)
    return isinstance(value, int) and lowest <= value <= highest


class IntegerKeyChoiceMixin:
    """For a ``ModelChoiceField`` or ``ModelMultipleChoiceField``: a posted value that cannot be
    a key of the queryset's model (a 40-digit number, -1, 0, 1e3, １２ …) gets the field's own
    "invalid choice" error before the database is asked; left to the database, a number past
    the column's range is an error (OverflowError on SQLite) instead of a missing row.

    Fields keyed by a non-integer field (``to_field_name="public_id"``) are left as they are:
    their field validates the value itself.
    """

    def _integer_key_range(self) -> tuple[int, int] | None:
        return integer_key_range(self.queryset.model, self.to_field_name)

    def _refuse(self, value) -> ValidationError:
        return ValidationError(
            self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )

    def _check_key(self, value, key_range: tuple[int, int] | None) -> None:
        if key_range is None or isinstance(value, self.queryset.model):
            return
        if not is_integer_key(value, key_range):
            raise self._refuse(value)

    def to_python(self, value):
        # ModelChoiceField: one value (ModelMultipleChoiceField's list goes to _check_values).
        if not isinstance(value, list | tuple) and value not in self.empty_values:
            self._check_key(value, self._integer_key_range())
        return super().to_python(value)

    def _check_values(self, value):
        # ModelMultipleChoiceField: the list, checked here before its queries.
        key_range = self._integer_key_range()
        for item in value:
            self._check_key(item, key_range)
        return super()._check_values(value)


class IntegerKeyChoiceField(IntegerKeyChoiceMixin, forms.ModelChoiceField):
    """A ``ModelChoiceField`` that refuses impossible keys before the database sees them."""


class IntegerKeyMultipleChoiceField(IntegerKeyChoiceMixin, forms.ModelMultipleChoiceField):
    """A ``ModelMultipleChoiceField`` that refuses impossible keys before the database sees
    them."""


def bound_number(field: forms.IntegerField, lowest: int, highest: int) -> None:
    """Give a number field its bounds (checked with the form, said under the field, and set on
    the input), whatever the database would accept: SQLite stores any 64-bit number in a
    "small" integer column."""
    field.min_value, field.max_value = lowest, highest
    field.validators += [MinValueValidator(lowest), MaxValueValidator(highest)]
    field.widget.attrs.update(min=lowest, max=highest)
