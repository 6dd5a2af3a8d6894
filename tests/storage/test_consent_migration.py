"""Migration 0009 carries a consent given before it over to the purposes the citizen actually used."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from suarawarga.storage.db import make_engine
from suarawarga.storage.migrate import upgrade

NOW = "2026-11-23 02:00:00.000000"


async def test_existing_consent_becomes_a_consent_per_used_purpose(tmp_path: Path) -> None:
    """A citizen with a complaint keeps a complaint consent; one who only consented is asked again."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0008")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO service_units (id, code, name, kind, oversight, city_admin, active) "
                    "VALUES (1, 'DPUPR', 'Dinas PUPR', 'opd', 0, 0, 1)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO categories (id, code, name_id, name_en, hint_id, hint_en, unit_id, sensitive, "
                    "accept_working_days, respond_working_days, resolve_days, sort_order, active) "
                    "VALUES (1, 'jalan', 'Jalan', 'Road', '', '', 1, 0, 3, 5, 60, 0, 1)"
                )
            )
            for citizen_id in (1, 2):
                await conn.execute(
                    text("INSERT INTO citizens (id, created_at, consent_at, language) VALUES (:id, :t, :t, 'id')"),
                    {"id": citizen_id, "t": NOW},
                )
            await conn.execute(
                text(
                    "INSERT INTO complaints (code, status, category_id, unit_id, description, identity_mode, "
                    "citizen_id, language, filed_at, updated_at) "
                    "VALUES ('PDG-AAAAAA', 'diterima', 1, 1, 'Jalan rusak sekali', 'named', 1, 'id', :t, :t)"
                ),
                {"t": NOW},
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT citizen_id, purpose, text_version FROM consents"))).all()
            staff_default = (
                await conn.execute(
                    text("SELECT dflt_value FROM pragma_table_info('staff_members') WHERE name = 'language'")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "complaint", "privacy.notice@before-0009")]
    assert staff_default == "'id'"
