"""Which column of a file goes where: the targets, pre-selection by header name, the checks."""

from __future__ import annotations

import re
import unicodedata

from ..enums import TitledEnum
from ..errors import ValidationError
from .addresses import is_plain_valid


class Target(TitledEnum):
    """What a column of an import file holds."""

    ignore = ("ignore", "Ignore this column")
    first_name = ("first_name", "First name")
    last_name = ("last_name", "Last name")
    email = ("email", "Email")
    email2 = ("email2", "Email 2")
    email3 = ("email3", "Email 3")
    tags = ("tags", "Tags")
    company = ("company", "Company")
    phone = ("phone", "Phone")


EMAIL_TARGETS = (Target.email, Target.email2, Target.email3)
# How long each contact field may be (the columns' sizes); longer cells skip the row.
MAX_LENGTH = {
    Target.first_name: 100,
    Target.last_name: 100,
    Target.company: 200,
    Target.phone: 50,
    Target.tags: 80,  # per tag
}

# Header names that common exports use (Keap, Mailchimp, HubSpot, Outlook, Google Contacts,
# German, French and Spanish exports), compared after `header_key` folds case, accents,
# spaces and punctuation: "E-Mail Address" and "email_address" are both "emailaddress".
_ALIASES: dict[Target, str] = {
    Target.email: (
        "email emailaddress mail emailadresse email1 emailaddress1 email1address "
        "email1value primaryemail emailprimary courriel adresseemail adressemail correo "
        "correoelectronico mailadresse"
    ),
    Target.email2: (
        "email2 emailaddress2 email2address email2value secondaryemail emailsecondary "
        "otheremail alternateemail email2adresse"
    ),
    Target.email3: "email3 emailaddress3 email3address email3value email3adresse",
    Target.first_name: "firstname first givenname forename vorname prenom nombre fname",
    Target.last_name: (
        "lastname last surname familyname nachname nom apellido apellidos lname nomdefamille"
    ),
    Target.company: (
        "company companyname organization organisation organization1name organizationname "
        "firma unternehmen societe entreprise empresa"
    ),
    Target.phone: (
        "phone phonenumber phone1 phone1value telephone tel mobile mobilephone "
        "businessphone cellphone telefon telefonnummer telefono handy"
    ),
    Target.tags: "tags tag labels groupmembership schlagworte etiquetas",
}
_BY_KEY = {key: target for target, keys in _ALIASES.items() for key in keys.split()}


def header_key(name: str) -> str:
    """A header name folded for comparison: no accents, case, spaces or punctuation."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _looks_like_addresses(values: list[str]) -> bool:
    filled = [v.strip().lower() for v in values if v.strip()]
    return bool(filled) and sum(is_plain_valid(v) for v in filled) * 2 > len(filled)


def guess_mapping(header: list[str], sample: list[list[str]]) -> dict[int, Target]:
    """Pre-select a target per column: by header name first, then email-looking contents."""
    mapping = {i: Target.ignore for i in range(len(header))}
    taken: set[Target] = set()
    for i, name in enumerate(header):
        target = _BY_KEY.get(header_key(name))
        if target is not None and target not in taken:
            mapping[i] = target
            taken.add(target)
    for i in range(len(header)):
        if mapping[i] is not Target.ignore:
            continue
        free = [t for t in EMAIL_TARGETS if t not in taken]
        column = [row[i] if i < len(row) else "" for row in sample]
        if free and _looks_like_addresses(column):
            mapping[i] = free[0]
            taken.add(free[0])
    return mapping


def check_mapping(mapping: dict[int, Target], header: list[str]) -> None:
    """Raise ValidationError unless some column is an email and no target is chosen twice."""
    used: dict[Target, int] = {}
    for i, target in sorted(mapping.items()):
        if target is Target.ignore:
            continue
        if target in used:
            first, second = header[used[target]], header[i]
            raise ValidationError(
                "mapping",
                f"{target.title} is chosen for two columns ({first!r} and {second!r}); "
                "choose it for one only.",
            )
        used[target] = i
    if not any(t in used for t in EMAIL_TARGETS):
        raise ValidationError(
            "mapping", "Choose Email, Email 2 or Email 3 for at least one column to go on."
        )


def mapping_to_json(mapping: dict[int, Target]) -> dict[str, str]:
    """The mapping as stored on the batch (JSON keys are strings)."""
    return {str(i): t.value for i, t in sorted(mapping.items()) if t is not Target.ignore}


def mapping_from_json(data: dict[str, str]) -> dict[int, Target]:
    """The stored mapping back as column index -> target."""
    return {int(i): Target(v) for i, v in data.items()}
