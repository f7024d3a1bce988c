"""Forms of the organisation pages. They only shape input; the rules live in
`kefu.core.services.org`, whose refusals are shown on the form."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.forms import StyledForm, VersionField
from kefu.core.models import Department, DepartmentKind, Region
from kefu.core.pii import mask_phone, may_reveal
from kefu.core.selectors import org as selectors

ACTIVE_CHOICES = [("", _("全部")), ("1", _("启用")), ("0", _("已停用"))]
STAFF_ACTIVE_CHOICES = [("", _("全部")), ("1", _("在职")), ("0", _("已停用"))]


class _CodedChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.code}）" if obj.is_active else f"{obj.name}（{obj.code}，{_('已停用')}）"


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.display_name or obj.username}（{obj.username}）"


def _active_or(keep) -> Q:
    """Active rows to pick from, plus the current value even if it was deactivated."""
    return Q(is_active=True) | Q(pk=keep.pk) if keep is not None else Q(is_active=True)


def _departments(user, *, keep=None):
    return selectors.department_list(user).filter(_active_or(keep))


def _regions(user, *, keep=None):
    return selectors.region_list(user).filter(_active_or(keep))


def _parents(choices, user, instance):
    """The parents `instance` (None: a new unit) may be put under: `choices` (`_departments`
    or `_regions`) with its current parent, never the unit itself."""
    parents = choices(user, keep=instance.parent if instance else None)
    return parents.exclude(pk=instance.pk) if instance is not None else parents


# --- departments and regions ---------------------------------------------------------


class DepartmentForm(StyledForm):
    code = forms.SlugField(label=_("编码"), max_length=40, help_text=_("字母、数字、连字符，如 service、repair。"))
    name = forms.CharField(label=_("名称"), max_length=80)
    kind = forms.ChoiceField(label=_("类型"), choices=DepartmentKind.choices, initial=DepartmentKind.OTHER)
    parent = _CodedChoice(label=_("上级部门"), queryset=Department.objects.none(), required=False)
    head = _StaffChoice(label=_("负责人"), queryset=None, required=False)
    phone = forms.CharField(label=_("电话"), max_length=32, required=False)
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, initial=0)
    version = VersionField()

    def __init__(self, *args, user, instance: Department | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = _parents(_departments, user, instance)
        self.fields["head"].queryset = selectors.staff_list(user).filter(
            _active_or(instance.head if instance is not None else None)
        )


class RegionForm(StyledForm):
    code = forms.SlugField(label=_("编码"), max_length=40, help_text=_("字母、数字、连字符，如 east、north-1。"))
    name = forms.CharField(label=_("名称"), max_length=80)
    parent = _CodedChoice(label=_("上级片区"), queryset=Region.objects.none(), required=False)
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, initial=0)
    version = VersionField()

    def __init__(self, *args, user, instance: Region | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = _parents(_regions, user, instance)


class DepartmentFilterForm(StyledForm):
    q = forms.CharField(label=_("搜索"), required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=[("", _("全部类型")), *DepartmentKind.choices], required=False)
    active = forms.ChoiceField(label=_("状态"), choices=ACTIVE_CHOICES, required=False)


class RegionFilterForm(StyledForm):
    q = forms.CharField(label=_("搜索"), required=False)
    active = forms.ChoiceField(label=_("状态"), choices=ACTIVE_CHOICES, required=False)


# --- staff --------------------------------------------------------------------------


def _password_field(label):
    return forms.CharField(label=label, widget=forms.PasswordInput(render_value=False), strip=False)


class _PasswordPairMixin:
    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class _StaffProfileFields(StyledForm):
    display_name = forms.CharField(label=_("姓名"), max_length=60)
    employee_no = forms.CharField(label=_("工号"), max_length=32, required=False)
    phone = forms.CharField(label=_("电话"), max_length=32, required=False)
    title = forms.CharField(label=_("职务"), max_length=60, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)
    department = _CodedChoice(label=_("所属部门"), queryset=Department.objects.none(), required=False)
    region = _CodedChoice(label=_("所属片区"), queryset=Region.objects.none(), required=False)

    def _set_choices(self, user, instance=None):
        self.fields["department"].queryset = _departments(user, keep=instance.department if instance else None)
        self.fields["region"].queryset = _regions(user, keep=instance.region if instance else None)


class StaffCreateForm(_PasswordPairMixin, _StaffProfileFields):
    username = forms.RegexField(
        label=_("用户名"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        help_text=_("登录用，字母、数字及 @ . + - _。"),
        error_messages={"invalid": _("用户名只能包含字母、数字及 @ . + - _。")},
    )
    roles = forms.MultipleChoiceField(label=_("角色"), widget=forms.CheckboxSelectMultiple, choices=())
    password1 = _password_field(_("初始密码"))
    password2 = _password_field(_("确认密码"))

    field_order = [
        "username",
        "display_name",
        "employee_no",
        "title",
        "department",
        "region",
        "phone",
        "email",
        "roles",
        "password1",
        "password2",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_choices(user)
        self.fields["roles"].choices = selectors.role_choices()


class StaffEditForm(_StaffProfileFields):
    """The profile. An editor who may not see phone numbers gets the phone field empty,
    with the masked number as a hint; leaving it empty keeps the number."""

    version = VersionField()

    def __init__(self, *args, user, instance, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_choices(user, instance)
        self.phone_hidden = not may_reveal(user) and bool(instance.phone)
        if self.phone_hidden:
            self.fields["phone"].help_text = _("当前号码 %(masked)s；留空则不修改。") % {
                "masked": mask_phone(instance.phone)
            }

    @classmethod
    def initial_for(cls, user, instance) -> dict:
        initial = {
            "display_name": instance.display_name,
            "employee_no": instance.employee_no,
            "phone": instance.phone if may_reveal(user) else "",
            "title": instance.title,
            "email": instance.email,
            "department": instance.department_id,
            "region": instance.region_id,
            "version": instance.version,
        }
        return initial

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if self.phone_hidden and not data.get("phone"):
            data.pop("phone", None)
        return data


class StaffRolesForm(StyledForm):
    roles = forms.MultipleChoiceField(label=_("角色"), widget=forms.CheckboxSelectMultiple, choices=(), required=False)
    version = VersionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = selectors.role_choices()


class StaffScopeForm(StyledForm):
    scope_all = forms.BooleanField(
        label=_("可见全部数据"), required=False, help_text=_("勾选后可见所有片区和部门的数据。")
    )
    regions = forms.ModelMultipleChoiceField(
        label=_("可见片区"),
        queryset=Region.objects.none(),
        required=False,
        help_text=_("除本人所属片区外，另可查看的片区。"),
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("可见部门"),
        queryset=Department.objects.none(),
        required=False,
        help_text=_("除本人所属部门外，另可查看的部门。"),
    )
    version = VersionField()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Deactivated ones stay selectable here: removing them from a scope must be possible.
        self.fields["regions"].queryset = selectors.region_list(user)
        self.fields["departments"].queryset = selectors.department_list(user)
        for name in ("regions", "departments"):
            self.fields[name].widget.attrs["size"] = 8


class StaffPasswordForm(_PasswordPairMixin, StyledForm):
    password1 = _password_field(_("新密码"))
    password2 = _password_field(_("确认密码"))


class StaffFilterForm(StyledForm):
    q = forms.CharField(label=_("搜索"), required=False)
    department = _CodedChoice(
        label=_("部门"), queryset=Department.objects.none(), required=False, empty_label=_("全部部门")
    )
    region = _CodedChoice(label=_("片区"), queryset=Region.objects.none(), required=False, empty_label=_("全部片区"))
    role = forms.ChoiceField(label=_("角色"), choices=(), required=False)
    active = forms.ChoiceField(label=_("状态"), choices=STAFF_ACTIVE_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = selectors.department_list(user)
        self.fields["region"].queryset = selectors.region_list(user)
        self.fields["role"].choices = [("", _("全部角色")), *selectors.role_choices()]


# --- roles --------------------------------------------------------------------------


class RolePermissionsForm(StyledForm):
    permissions = forms.MultipleChoiceField(
        label=_("权限"), widget=forms.CheckboxSelectMultiple, choices=(), required=False
    )

    def __init__(self, *args, catalogue, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        self.fields["permissions"].choices = [(p["code"], p["label"]) for app in catalogue for p in app["permissions"]]
