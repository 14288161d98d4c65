"""A failed statement's error never carries its parameters (recipient tokens, addresses)."""

import pytest
import sqlalchemy as sa


def test_a_failed_statements_error_names_no_parameter_value(app, db):
    secret = "r/confirm/1.2.SECRET-TOKEN-VALUE"
    with pytest.raises(sa.exc.DBAPIError) as err, db.engine.connect() as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table WHERE x = :v"), {"v": secret})

    assert "no_such_table" in str(err.value)
    assert secret not in str(err.value)
