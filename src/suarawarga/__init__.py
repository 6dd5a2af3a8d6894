"""SuaraWarga: citizens' complaints and IKM surveys for a city government, over chat."""

__version__ = "0.1.0.dev0"
