"""Fake Telegram Bot API and WhatsApp Cloud API servers, shared by the tests and the benchmarks."""
