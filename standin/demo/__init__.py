"""``npsbot demo``: the real bot, offline, against the local Telegram stand-in.

The demo starts the stand-in in this process and the real bot as a child process
(``python -m bot run``) pointed at it, in a temporary directory. Simulated customers of
"Acme Delivery" open their signed deep links, each gets one transactional survey (queued
straight into the bot's database, as ``npsbot survey`` does) and answers it the way real
people do: most tap a button, some type the number, some send nonsense first, some ignore
the survey and one or two send /stop before it arrives. The bot runs with the shipped
``questionnaire.example.toml``: about a third of the customers use Telegram in Chinese
(``language_code`` zh-hans) and see every text in Chinese, one switches to Chinese with
/language, and everyone who answers picks one or two drivers before writing their reason.
Detractors' alerts reach the admin group; at the end an admin sends /digest there and the
demo waits for the digest (chart and text), then /export for the CSV (with the drivers).
Afterwards the demo stops the bot with SIGTERM and prints what happened, read back from the
bot's own database, and everything the admin group received.

Nothing leaves 127.0.0.1 and no Telegram token is needed. On success the temporary
directory is removed; on failure it is kept and the bot's log path and its last lines are
printed.

The modules follow the demo's seams: ``company`` (Acme Delivery, its bot and questionnaire),
``customers`` (who the customers are and what they will do), ``simulated`` (how they press
and type), ``scenario`` (what happens in what order), ``outcomes`` (what the bot stored),
``report`` (what is printed) and ``run`` (the entry point). The package is test and demo
infrastructure: the bot never imports it, ``npsbot demo`` loads it on demand.
"""

from standin.demo.run import run_demo

__all__ = ["run_demo"]
