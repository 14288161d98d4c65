"""Reading real exports: encodings, delimiters, quoting, header names, and the files refused."""

from pathlib import Path

import pytest

from requests_queue.imports import FileRefused, Target, guess_mapping, inspect_file
from requests_queue.imports.reading import RowReader, detect_delimiter

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
BASIC_HEADER = ["Email", "First Name", "Last Name", "Company"]


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("utf8_comma_lf.csv", "utf-8", ","),
        ("utf8_bom_semicolon_crlf.csv", "utf-8-sig", ";"),
        ("utf16le_bom_tab.tsv", "utf-16", "\t"),
        ("utf16be_bom_comma.csv", "utf-16", ","),
        ("windows1252_semicolon.csv", "cp1252", ";"),
    ],
)
def test_detects_encoding_and_delimiter_and_reads_accents(name, encoding, delimiter):
    fmt = inspect_file(FIXTURES / name)
    assert (fmt.encoding, fmt.delimiter) == (encoding, delimiter)
    assert fmt.header == BASIC_HEADER
    assert fmt.sample[0] == ["zoe@example.com", "Zoë", "Müller", "Café Crème"]
    assert fmt.mapping == {
        0: Target.email,
        1: Target.first_name,
        2: Target.last_name,
        3: Target.company,
    }


def test_reads_quoted_fields_with_delimiters_quotes_and_newlines_and_their_lines():
    with RowReader(FIXTURES / "quoted_fields.csv", "utf-8", ",") as reader:
        records = list(reader)
    assert records[1] == (2, ["zoe@example.com", "Zoë", "Müller", "Café, Crème & Co"])
    assert records[2] == (3, ["ada@example.com", "Ada", "Love\r\nlace", 'She said "hello"'])
    # The record before spans two lines, so this one starts on line 5.
    assert records[3] == (5, ["ben@example.org", "Ben", "Ng", "multi\nline\nnote"])


def test_row_reader_resumes_after_a_given_line():
    with RowReader(FIXTURES / "quoted_fields.csv", "utf-8", ",") as reader:
        reader.skip_to(4)
        assert [line for line, _ in reader] == [5]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "keap_export.csv",
            {0: Target.first_name, 1: Target.last_name, 2: Target.email, 3: Target.email2,
             4: Target.email3, 5: Target.company, 6: Target.phone, 7: Target.tags},
        ),
        (
            "outlook_export.csv",
            {0: Target.first_name, 2: Target.last_name, 3: Target.email, 5: Target.email2,
             6: Target.phone},
        ),
        (
            "german_export.csv",
            {0: Target.first_name, 1: Target.last_name, 2: Target.email, 3: Target.company,
             4: Target.phone},
        ),
        ("unnamed_email_column.csv", {1: Target.email}),
    ],
)  # fmt: skip
def test_preselects_columns_by_the_names_common_exports_use(name, expected):
    fmt = inspect_file(FIXTURES / name)
    chosen = {i: t for i, t in fmt.mapping.items() if t is not Target.ignore}
    assert chosen == expected


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Email", Target.email),
        ("Email Address", Target.email),
        ("E-mail", Target.email),
        ("E-Mail-Adresse", Target.email),
        ("email_address", Target.email),
        ("Email 2", Target.email2),
        ("Email 3", Target.email3),
        ("First Name", Target.first_name),
        ("Vorname", Target.first_name),
        ("Prénom", Target.first_name),
        ("Nachname", Target.last_name),
        ("Tags", Target.tags),
        ("Company Name", Target.company),
        ("Phone Number", Target.phone),
        ("Favourite colour", Target.ignore),
    ],
)
def test_header_names_map_to_targets(header, target):
    assert guess_mapping([header], [["x"]])[0] is target


def test_a_target_is_preselected_for_the_first_column_only():
    mapping = guess_mapping(["Email", "Email Address"], [])
    assert mapping == {0: Target.email, 1: Target.ignore}


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("empty.csv", "empty", "empty"),
        ("blank_lines.csv", "empty", "empty"),
        ("header_only.csv", "empty", "no rows"),
        ("no_header.csv", "no_header", "column names"),
        ("no_email_column.csv", "no_email_column", "No column holds email addresses"),
        ("spreadsheet.xlsx", "not_text", "not a text file"),
    ],
)
def test_refuses_unusable_files_saying_which_problem_it_is(name, kind, words):
    with pytest.raises(FileRefused) as refused:
        inspect_file(FIXTURES / name)
    assert refused.value.kind == kind
    assert words in refused.value.reason


def test_refuses_bytes_that_are_neither_utf8_nor_windows_1252(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"Email\nab\x81\x8d\x8f\x90\x9d@example.com\n")
    with pytest.raises(FileRefused) as refused:
        inspect_file(path)
    assert refused.value.kind == "not_text"


def test_a_utf8_file_with_one_bad_byte_far_down_is_read_as_windows_1252(tmp_path):
    path = tmp_path / "late.csv"
    body = "Email,Name\n" + "".join(f"a{i}@example.com,Ann\n" for i in range(40_000))
    path.write_bytes(body.encode() + "z@example.com,Jos\xe9\n".encode("cp1252"))
    assert inspect_file(path).encoding == "cp1252"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2;3\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ('name;note\n"Ng, Ben";"x, y, z"\n', ";"),
        ("email\nada@example.com\n", ","),
    ],
)
def test_detects_the_delimiter_that_splits_rows_alike(text, delimiter):
    assert detect_delimiter(text) == delimiter
