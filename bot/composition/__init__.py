"""The composition root: builds settings, storage, the Telegram application, the use cases'
services and the adapters, wires them together and runs them under one supervisor."""
