"""Form helpers shared by every module."""

from __future__ import annotations

from django import forms

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
