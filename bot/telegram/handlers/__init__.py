"""One module per concern; :mod:`bot.telegram.wiring` registers them."""
