"""Tables of the city's structure from the seed: service units, place names, the city and its area, categories."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from suarawarga.storage.orm.base import Base

__all__ = ["CategoryRow", "CityAreaRow", "CityRow", "PlaceNameRow", "UnitRow"]


class UnitRow(Base):
    """An OPD or a sub-unit (puskesmas, kecamatan, kelurahan) with a stable code."""

    __tablename__ = "service_units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_units.id"), index=True)
    oversight: Mapped[bool] = mapped_column(Boolean, default=False)
    city_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    population: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PlaceNameRow(Base):
    """A place name (a kelurahan) inside a kecamatan, from the seed: it locates a typed address."""

    __tablename__ = "place_names"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))


class CityAreaRow(Base):
    """The rectangle around the city, from the seed: a shared location outside it is questioned."""

    __tablename__ = "city_area"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    south: Mapped[float] = mapped_column(Float)
    west: Mapped[float] = mapped_column(Float)
    north: Mapped[float] = mapped_column(Float)
    east: Mapped[float] = mapped_column(Float)


class CityRow(Base):
    """The city the seed describes (one row): its name is printed on posters and charts."""

    __tablename__ = "city"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class CategoryRow(Base):
    """A complaint category and its routing."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_id: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    hint_id: Mapped[str] = mapped_column(String(200), default="")
    hint_en: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    accept_working_days: Mapped[int] = mapped_column(Integer, default=3)
    respond_working_days: Mapped[int] = mapped_column(Integer, default=5)
    resolve_days: Mapped[int] = mapped_column(Integer, default=60)
    duplicate_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")  # look-back for duplicates
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
