"""Use cases: what happens when an update, an ops request or a scheduled moment arrives.

They take the core's decisions, read and write through :mod:`storage` inside one
transaction, and return effects (Bot API calls written to the outbox, webhook events) or
make them through the ports in :mod:`bot.usecases.ports`. No Telegram or HTTP library here.
"""
