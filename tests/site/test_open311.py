"""The Open311 GeoReport v2 feed: the spec's fields and parameters, rounded places, nothing private."""

from __future__ import annotations

from datetime import timedelta

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.model import IdentityMode
from suarawarga.complaints.services import ComplaintDraft, file_complaint
from tests.site.support import PRIVATE, client, populate

SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id", "status", "service_code", "service_name", "agency_responsible", "service_notice",
    "requested_datetime", "updated_datetime", "expected_datetime", "address", "lat", "long",
}  # fmt: skip
FORBIDDEN_FIELDS = {"description", "media_url", "status_notes", "address_id", "zipcode"}


async def _file(app: App, mode: IdentityMode, lat: float | None = None, lon: float | None = None) -> str:
    async with app.uow() as uow:
        filed = await file_complaint(
            uow,
            ComplaintDraft(
                category_code="lampu_jalan",
                description="Lampu mati di depan rumah Rahasia Warga",
                identity_mode=mode,
                channel=ChannelName.CONSOLE,
                chat_id="warga-9",
                citizen_id=None,
                language="id",
                latitude=lat,
                longitude=lon,
            ),
            app.clock.now() - timedelta(days=1),
            "PDG",
        )
        await uow.commit()
    return filed.code


async def test_services_are_the_offered_categories(app: App) -> None:
    """services.json lists every category a citizen can choose, with the GeoReport v2 fields."""
    async with client(app) as http:
        answer = await http.get("/open311/v2/services.json")
    services = answer.json()
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert {s["service_code"] for s in services} >= {"jalan_rusak", "lampu_jalan"}
    for item in services:
        # GeoReport v2 service list: exactly its fields, each of the spec's type (docs/site.md §3).
        assert set(item) == SERVICE_FIELDS
        assert item["type"] in ("realtime", "batch", "blackbox")
        assert item["metadata"] is False
        assert isinstance(item["service_code"], str) and item["service_code"]
        assert isinstance(item["service_name"], str) and item["service_name"]
        assert all(isinstance(item[name], str) for name in ("description", "keywords", "group"))
    assert len({s["service_code"] for s in services}) == len(services)  # a code names one service


async def test_requests_carry_the_spec_fields_and_no_private_data(app: App) -> None:
    """requests.json: ids, status open/closed, agency, times, place rounded to ~110 m; no text, name or media."""
    city = await populate(app)
    anonim = await _file(app, IdentityMode.ANONIM, -0.9471234, 100.4172345)
    rahasia = await _file(app, IdentityMode.RAHASIA, -0.95, 100.35)
    async with client(app) as http:
        answer = await http.get("/open311/v2/requests.json")
        closed = await http.get("/open311/v2/requests.json?status=closed")
        lights = await http.get("/open311/v2/requests.json?service_code=lampu_jalan")
        one = await http.get(f"/open311/v2/requests/{anonim}.json")
        secret = await http.get(f"/open311/v2/requests/{rahasia}.json")
    requests = answer.json()
    ids = [r["service_request_id"] for r in requests]
    assert set(ids) == {anonim, *(c.code for c in city.filed)}
    assert rahasia not in ids
    for item in requests:
        assert set(item) == REQUEST_FIELDS
        assert not FORBIDDEN_FIELDS & set(item)
        assert item["status"] in ("open", "closed")
    by_id = {r["service_request_id"]: r for r in requests}
    assert (by_id[anonim]["lat"], by_id[anonim]["long"]) == (-0.947, 100.417)
    assert by_id[city.filed[0].code]["status"] == "closed"
    assert by_id[city.filed[0].code]["agency_responsible"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert [r["service_request_id"] for r in closed.json()] == [city.filed[0].code]
    assert [r["service_request_id"] for r in lights.json()] == [anonim]
    assert [r["service_request_id"] for r in one.json()] == [anonim]
    assert secret.status_code == 404
    for text in (answer.text, one.text):
        for private in (*PRIVATE, "Lampu mati", "0812"):
            assert private not in text


async def test_dates_and_paging(app: App) -> None:
    """start_date/end_date select by filing time; page and page_size page newest first; bad values get 400."""
    city = await populate(app)
    now = app.clock.now()
    start = (now - timedelta(days=15)).isoformat()
    async with client(app) as http:
        recent = await http.get("/open311/v2/requests.json", params={"start_date": start})
        first = await http.get("/open311/v2/requests.json?page_size=2")
        second = await http.get("/open311/v2/requests.json?page_size=2&page=2")
        bad = [
            await http.get("/open311/v2/requests.json?start_date=kemarin"),
            await http.get("/open311/v2/requests.json?status=lost"),
            await http.get("/open311/v2/requests.json?page_size=5000"),
            await http.get("/open311/v2/requests.json?start_date=2026-12-01T00:00:00"),
        ]
    newest_first = [c.code for c in reversed(city.filed)]
    assert [r["service_request_id"] for r in recent.json()] == newest_first[:2]
    assert [r["service_request_id"] for r in first.json()] == newest_first[:2]
    assert [r["service_request_id"] for r in second.json()] == newest_first[2:]
    for answer in bad:
        assert answer.status_code == 400
        assert set(answer.json()[0]) == {"code", "description"}
