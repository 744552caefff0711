"""The edge: Telegram (:mod:`~bot.adapters.telegram`), the ops HTTP API
(:mod:`~bot.adapters.ops_api`) and outbound webhooks (:mod:`~bot.adapters.webhooks`).
They call the use cases and never import each other."""
