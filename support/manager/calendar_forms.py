"""Forms of the manager's calendar page: settings with weekly hours, and holiday edits."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from requests_queue.calendar import BusinessCalendar
from requests_queue.calendar_store import WEEKDAYS, CalendarInput, supported_countries


class DayHoursForm(Form):
    """One weekday's row: open or not, and from when to when (team time)."""

    is_open = BooleanField("Open")
    opens = TimeField("Opens", validators=[Optional()])
    closes = TimeField("Closes", validators=[Optional()])


def check_day_rows(hours: FieldList) -> bool:
    """An open day needs both times; False (with the error on its closing time) otherwise."""
    valid = True
    for weekday, entry in enumerate(hours):
        day = entry.form
        if day.is_open.data and (day.opens.data is None or day.closes.data is None):
            day.closes.errors = [*day.closes.errors, f"Give {WEEKDAYS[weekday]}'s hours."]
            valid = False
    return valid


def fill_day_rows(hours: FieldList, weekly) -> None:
    """Show weekly hours (weekday -> span or None) in the seven rows."""
    for weekday, entry in enumerate(hours):
        span = weekly[weekday]
        entry.form.is_open.data = span is not None
        entry.form.opens.data, entry.form.closes.data = span or (None, None)


def read_day_rows(hours: FieldList) -> dict:
    """The submitted rows as weekday -> (opens, closes), or None for a closed day."""
    return {
        weekday: (entry.form.opens.data, entry.form.closes.data)
        if entry.form.is_open.data
        else None
        for weekday, entry in enumerate(hours)
    }


class CalendarForm(FlaskForm):
    """Time zone, holiday country and region, and the hours of each weekday."""

    timezone = StringField(
        "Time zone",
        validators=[DataRequired(message="Choose the team's time zone."), Length(max=64)],
        description="An IANA name such as America/Phoenix or Europe/Berlin.",
        render_kw={"list": "zone-names", "autocomplete": "off", "spellcheck": "false"},
    )
    country = SelectField("Public holidays of", choices=[])
    subdivision = StringField(
        "State or region (optional)",
        validators=[Optional(), Length(max=40)],
        description="Adds that region's own holidays, for example CA or NY.",
        render_kw={"list": "region-names", "autocomplete": "off"},
    )
    hours = FieldList(FormField(DayHoursForm), min_entries=7, max_entries=7)
    preview = SubmitField("Preview without saving")
    submit = SubmitField("Save calendar")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [(code, f"{name} ({code})") for code, name in supported_countries()]

    def fill(self, calendar: BusinessCalendar) -> None:
        """Show `calendar`'s settings (on GET)."""
        self.timezone.data = calendar.timezone
        self.country.data = calendar.country
        self.subdivision.data = calendar.subdivision or ""
        fill_day_rows(self.hours, calendar.hours)

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then: an open day needs both times."""
        valid = super().validate(extra_validators)
        return check_day_rows(self.hours) and valid

    def to_input(self) -> CalendarInput:
        """The submitted settings, for the domain to check."""
        return CalendarInput(
            timezone=self.timezone.data or "",
            country=self.country.data or "",
            subdivision=self.subdivision.data or None,
            hours=read_day_rows(self.hours),
        )


class HolidayForm(FlaskForm):
    """Close a day as a company holiday, or open a public holiday as a working day."""

    day = DateField("Date", validators=[DataRequired(message="Choose a date.")])
    note = StringField(
        "Note (optional)",
        validators=[Optional(), Length(max=200)],
        description="Shown in the preview, for example “Company offsite”.",
    )
    close_day = SubmitField("Close this day")
    open_day = SubmitField("Work this day")


class UndoHolidayForm(FlaskForm):
    """Undo one holiday edit (the form carries only the CSRF token)."""


class AssignmentSettingsForm(FlaskForm):
    """Fair assignment on or off, and how many open requests an agent holds at most."""

    is_enabled = BooleanField("Assign new requests automatically (round robin)")
    max_open_per_agent = IntegerField(
        "Open requests per agent, at most",
        validators=[InputRequired(message="Give a whole number."), NumberRange(1, 1000)],
        description="Round robin skips an agent holding this many open requests.",
    )
    save_settings = SubmitField("Save assignment settings")


class AgentHoursForm(FlaskForm):
    """One agent's working hours: the team's, or their own weekly hours (team time)."""

    own_hours = BooleanField("Own working hours (otherwise the team calendar's hours)")
    hours = FieldList(FormField(DayHoursForm), min_entries=7, max_entries=7)
    save_hours = SubmitField("Save working hours")

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then: an open day needs both times."""
        valid = super().validate(extra_validators)
        return (not self.own_hours.data or check_day_rows(self.hours)) and valid
