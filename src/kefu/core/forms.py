"""Form helpers shared by every module."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kefu.core.errors import KefuError


class StyledFormMixin:
    """Gives widgets Tabler (Bootstrap 5) classes, so templates render fields plainly."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                # Our templates put the class on each input, not on the wrapping <div>.
                widget.template_name = "includes/widgets/choices.html"
                widget.option_template_name = "includes/widgets/choice_option.html"
                css = "form-check-input"
            elif isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class StyledForm(StyledFormMixin, forms.Form):
    pass


class StampField(forms.CharField):
    """The row's `updated_at` when the form was opened, sent back so that saving over
    somebody else's change is refused (the configuration rows carry no version)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value.isoformat() if isinstance(value, datetime.datetime) else value

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValidationError(_("页面已过期，请刷新后重试。"))
        return moment


class StampedForm(StyledForm):
    """A form carrying a `stamp`; its error (a tampered or truncated value) is shown on
    top, since a hidden field has no place of its own on the page."""

    stamp = StampField()

    def _post_clean(self):
        super()._post_clean()
        for error in self._errors.pop("stamp", []):
            self.add_error(None, error)


class VersionField(forms.IntegerField):
    """The version the user started editing, sent back to detect concurrent edits."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)


def add_service_error(form: forms.Form, error: KefuError) -> None:
    """Show a service's refusal on the form instead of a 500."""
    field = None
    if isinstance(error.details, dict) and error.details.get("field") in form.fields:
        field = error.details["field"]
    form.add_error(field, error.message)
