"""One module per concern; :mod:`bot.adapters.telegram.wiring` registers them."""
