"""Before the limit, not after: reminders to the responsible units, and chasing the reports that have not come in.

- :mod:`.contacts`  the clerk's 单位通讯录 (units, contacts, addresses, 分管领导; a 领导通讯录 sheet for 包案领导)
- :mod:`.clock`     when mail may go: office hours on the official calendar (调休 workdays are workdays)
- :mod:`.sentlog`   what was sent (the history store's ``reminders`` table, else a small SQLite file beside the ledger)
- :mod:`.ladder`    the reminder ladder (policy data, ``[remind]``): which matter is on which rung, one mail per unit
- :mod:`.collect`   which units have sent their 零报告 / ledger for a day or a period, which are late
- :mod:`.schedule`  the operating system's own schedule (schtasks, a systemd user timer, a cron line)

The clock is always passed in (``at``): nothing here reads the machine's time.
"""
from xfsheets.remind.clock import Window, parse_at, sending_window
from xfsheets.remind.contacts import Contacts, read_contacts, write_contacts_template
from xfsheets.remind.ladder import RemindResult, plan_reminders, run_remind

__all__ = ["Contacts", "RemindResult", "Window", "parse_at", "plan_reminders", "read_contacts", "run_remind",
           "sending_window", "write_contacts_template"]
