"""The staff forms, with messages that say what to type.

Every form posted carries a CSRF token (Flask-WTF); the audit filter is a GET form and has none.
Checks that need the database (a name already taken, a user who does not exist) are made by
the domain modules, whose errors the views attach to the field named in the error.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..messages import DomainError
from ..models import Role
from .i18n import translated


class StaffForm(FlaskForm):  # type: ignore[misc]
    """Base for the staff forms; `add_error` puts a domain error beside its field."""

    def add_error(self, field_name: str, message: str | DomainError) -> None:
        if isinstance(message, DomainError):
            message = translated(message)
        field = getattr(self, field_name, None) if field_name else None
        if field is None:
            self.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]


def role_choices() -> list[tuple[str, Any]]:
    return [
        (Role.CASEWORKER.value, _l("Caseworker: enters survivors' answers with them")),
        (Role.VIEWER.value, _l("Viewer: sees published results")),
        (Role.ANALYST.value, _l("Analyst: holds the key, refreshes reports")),
        (Role.ADMIN.value, _l("Administrator: users, links and settings")),
    ]


class SignInForm(StaffForm):
    username = StringField(_l("User name"), [DataRequired(_l("Enter your user name."))])
    password = PasswordField(_l("Password"), [DataRequired(_l("Enter your password."))])


class CodeForm(StaffForm):
    code = StringField(
        _l("Code from your authenticator app"),
        [DataRequired(_l("Enter the 6-digit code your authenticator app shows."))],
    )


class ChangePasswordForm(StaffForm):
    current = PasswordField(
        _l("Current password"), [DataRequired(_l("Enter the password you use now."))]
    )
    new = PasswordField(
        _l("New password"),
        [DataRequired(_l("Enter a new password of at least 12 characters."))],
    )
    repeat = PasswordField(
        _l("New password again"), [DataRequired(_l("Type the new password a second time."))]
    )


class ActionForm(StaffForm):
    """A button that changes something: only the CSRF token is sent."""


class HelpContactsForm(StaffForm):
    """A programme's help contacts, in the TOML that `programmes set-help` reads."""

    contacts = TextAreaField(
        _l("Help contacts"),
        [Length(max=20000, message=_l("Keep the help contacts under 20,000 characters."))],
    )


class ProgrammeForm(StaffForm):
    name = StringField(
        _l("Name (staff see it)"),
        [
            DataRequired(_l("Give the programme a name.")),
            Length(max=200, message=_l("Keep the name under 200 characters.")),
        ],
    )
    public_title = StringField(
        _l("Public title (respondents see it; keep it neutral)"),
        [
            DataRequired(_l("Give a neutral public title, such as 'Feedback'.")),
            Length(max=200, message=_l("Keep the public title under 200 characters.")),
        ],
        default="Feedback",
    )
    retention_days = IntegerField(
        _l("Keep responses for (days)"),
        [
            InputRequired(_l("Say how many days responses are kept, for example 730.")),
            NumberRange(1, 3650, _l("Keep responses between 1 and 3650 days.")),
        ],
        default=730,
    )


class NewProgrammeForm(ProgrammeForm):
    slug = StringField(
        _l("Programme id (lower-case letters, digits and dashes)"),
        [
            DataRequired(_l("Give the programme a short id, such as city-shelter.")),
            Length(2, 63, _l("The id must have 2 to 63 characters.")),
        ],
    )


class NewUserForm(StaffForm):
    username = StringField(
        _l("User name"),
        [
            DataRequired(_l("Give the new account a user name.")),
            Length(2, 63, _l("A user name has 2 to 63 characters.")),
        ],
    )
    programme = SelectField(_l("Programme"), coerce=int, validate_choice=True)
    role = SelectField(_l("Role"), choices=role_choices)


class AddMemberForm(StaffForm):
    username = StringField(
        _l("User name of an existing account"),
        [DataRequired(_l("Enter the user name of the person to add."))],
    )
    role = SelectField(_l("Role"), choices=role_choices)


class RoleForm(StaffForm):
    role = SelectField(_l("Role"), choices=role_choices)


class LinkForm(StaffForm):
    survey = SelectField(_l("Survey"))
    site = StringField(
        _l("Site (where the link is handed out)"),
        [
            DataRequired(_l("Name the site where this link is handed out.")),
            Length(max=100, message=_l("Keep the site name under 100 characters.")),
        ],
    )
    requires_code = BooleanField(_l("Ask for an access code (one per respondent)"))


class CodesForm(StaffForm):
    count = IntegerField(
        _l("How many codes"),
        [
            InputRequired(_l("Say how many codes to make, between 1 and 5000.")),
            NumberRange(1, 5000, _l("Make between 1 and 5000 codes at a time.")),
        ],
        default=50,
    )


class TwoFactorForm(StaffForm):
    code = StringField(
        _l("Code shown by the app"),
        [DataRequired(_l("Enter the 6-digit code the app shows after adding the key."))],
    )


class AuditFilterForm(StaffForm):
    class Meta:
        csrf = False

    actor = StringField(_l("Who"), [Optional()])
    action = SelectField(_l("What"), [Optional()])
    programme = SelectField(_l("Programme"), [Optional()])
    since = DateField(_l("From (day)"), [Optional()])
    until = DateField(_l("Until (day)"), [Optional()])
