"""The import's fast address check agrees with email-validator, on a large generated corpus."""

import random
import string

import pytest

from requests_queue.errors import ValidationError
from requests_queue.imports.addresses import check_import_address, is_plain_valid, undecided
from requests_queue.mailbox import check_address

ATEXT = string.ascii_lowercase + string.digits + "!#$%&'*+/=?^_`{|}~-"
ODD = ['"', " ", "(", ")", ",", ":", ";", "<", ">", "[", "]", "\\", "é", "ß", "\u200b", "@", "."]
TLDS = ["com", "org", "de", "example", "co", "museum", "test", "local", "localhost",
        "onion", "arpa", "invalid", "x", "c0m", "123", "xn--p1ai", "testing", "a" * 63,
        "a" * 64]  # fmt: skip


def _label(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.6:
        return "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(1, 12)))
    if kind < 0.75:
        return rng.choice(["ab--cd", "xn--bcher-kva", "-lead", "trail-", "a-b-c", "x--", "b-"])
    if kind < 0.85:
        return "a" * rng.choice([62, 63, 64])
    return "".join(rng.choices(string.ascii_lowercase + "-" + "_", k=rng.randint(1, 8)))


def _local(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.6:
        parts = [
            "".join(rng.choices(ATEXT, k=rng.randint(1, 10))) for _ in range(rng.randint(1, 3))
        ]
        return ".".join(parts)
    if kind < 0.8:
        chars = ATEXT + "." + "".join(ODD)
        return "".join(rng.choices(chars, k=rng.randint(0, 12)))
    if kind < 0.9:
        return "a" * rng.choice([63, 64, 65, 200, 250])
    return rng.choice(['"quoted"', ".lead", "trail.", "two..dots", "", "üñí", "info", "a b"])


def corpus(n: int, seed: int = 3) -> list[str]:
    """Addresses, mostly near the edges of what email-validator accepts."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        domain = ".".join(_label(rng) for _ in range(rng.randint(0, 3)))
        domain = f"{domain}.{rng.choice(TLDS)}" if domain and rng.random() < 0.9 else domain
        at = rng.choices(["@", "", "@@"], weights=[0.9, 0.05, 0.05])[0]
        out.append(f"{_local(rng)}{at}{domain}")
    return out


def _validator_accepts(address: str) -> bool:
    try:
        check_address(address)
    except ValidationError:
        return False
    return True


def test_fast_path_accepts_only_what_email_validator_accepts_on_a_generated_corpus():
    addresses = corpus(60_000)
    fast = [a for a in addresses if is_plain_valid(a)]
    assert len(fast) > 5_000  # the corpus exercises the fast path, not only the fallback
    wrong = [a for a in fast if not _validator_accepts(a)]
    assert wrong == []


@pytest.mark.parametrize("extra", [[], ["", "line\nbreak@example.com", "a" * 70 + "@example.com"]])
def test_whole_column_check_flags_exactly_what_the_one_address_check_does_not_accept(extra):
    column = [a.strip().lower() for a in corpus(30_000, seed=7)] + extra + ["", "a@b.co"]
    expected = [i for i, a in enumerate(column) if a and not is_plain_valid(a)]
    assert undecided(column) == expected


def test_import_check_gives_exactly_email_validators_verdict():
    addresses = corpus(20_000, seed=11)
    disagree = [
        a for a in addresses if (check_import_address(a)[1] is None) != _validator_accepts(a)
    ]
    assert disagree == []


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("ada@example.com", True),
        ("  Ada.Lovelace+news@Example.COM ", True),
        ("o'brien@example.ie", True),
        ("a@b.co", True),
        ("a@sub.domain-with-hyphen.example", True),
        ("a@b.test", False),  # special-use name
        ("a@localhost", False),
        ("a@b.c0m", True),  # not plain (digit in the top-level name): the library accepts it
        ("a@ab--cd.com", False),
        ("a..b@example.com", False),
        (".a@example.com", False),
        ("a@-example.com", False),
        ("a@example", False),
        ('"a b"@example.com', False),  # quoted local parts are refused
        ("user@xn--bcher-kva.example", True),  # punycode: decided by the library
        ("jürgen@example.de", True),  # internationalised: decided by the library
        ("a@" + "b" * 64 + ".com", False),
        ("a" * 240 + "@example.com", True),
        ("a" * 250 + "@example.com", False),
    ],
)
def test_known_addresses(address, valid):
    assert (check_import_address(address)[1] is None) is valid
    assert (check_import_address(address)[1] is None) is _validator_accepts(address)
