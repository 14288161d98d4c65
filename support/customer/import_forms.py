"""Forms of the contact import: the upload, then the column mapping with the permission question."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from requests_queue.imports import PERMISSION_STATEMENT, Target


class UploadForm(FlaskForm):
    """Step 1: the file exported from the other system, and a tag for what it brings in."""

    file = FileField(
        "Contacts file",
        validators=[FileRequired(message="Choose the file to import.")],
        description="CSV or tab-separated text, as exported from your previous email system "
        "(UTF-8, UTF-16 or Windows-1252; comma, semicolon or tab between columns).",
    )
    tag = StringField(
        "Tag the imported contacts",
        validators=[Optional(), Length(max=80)],
        description="Optional. Every contact in the file gets this tag, new or already here, "
        "so you can select them later.",
    )
    submit = SubmitField("Upload and choose columns")


# A column's name as its label on the mapping page shows at most this many characters.
LABEL_CHARS = 80

PERMISSION_CHOICES = [
    SelectChoice("yes", "Yes, I confirm it: new addresses become Single opt-in"),
    SelectChoice("no", "No, or I am not sure: new addresses become Non-marketable"),
]


class MappingForm(FlaskForm):
    """Step 2: the permission question; one select per column is added by `mapping_form`."""

    permission = RadioField(
        PERMISSION_STATEMENT,
        choices=PERMISSION_CHOICES,
        validators=[DataRequired(message="Answer the permission question to go on.")],
    )
    submit = SubmitField("Start the import")


def mapping_form(header: list[str], guessed: dict[int, Target], formdata=None) -> MappingForm:
    """A MappingForm with one select per column of the file, pre-selected by `guessed`."""

    class Form(MappingForm):
        pass

    choices = [SelectChoice(t.value, t.title) for t in Target]
    for i, name in enumerate(header):
        if len(name) > LABEL_CHARS:  # the page stays small whatever the file's header holds
            name = name[: LABEL_CHARS - 1] + "…"
        label = f"Column {i + 1}" + (f" “{name}”" if name else "")
        default = guessed.get(i, Target.ignore).value
        setattr(Form, f"col_{i}", SelectField(label, choices=choices, default=default))
    return Form(formdata=formdata) if formdata is not None else Form()
