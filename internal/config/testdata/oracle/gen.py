"""Regenerates the golden files next to it from the Python libraries that the
original ebs_snapper used, so the Go parsers are checked against the real
thing, not against our reading of it:

    python3 -m venv /tmp/oracle && /tmp/oracle/bin/pip install crontab==0.21.3 pytimeparse==1.1.5
    /tmp/oracle/bin/python gen.py

Inputs are drawn with a fixed seed, so the output only changes when this file
does. Each output line is one JSON object.

Left out on purpose (the Go code differs there, see duration.go and cron.go):
'|' as a sign (a typo in pytimeparse's sign class), non-ASCII digits and
spaces, aliases in other case or with surrounding spaces, a "+" before a cron
step, the "#" extension, and "L<a>-<b>" with a > b.

One bug of crontab 0.21.3 is fixed here before asking it, as the Go code
fixes it: its _end_of_month advances the wrong variable, so a bare "L" in
day-of-month also matched the day numbered like the previous month's last
day (July 30, March 28 or 29). Later versions of the library fixed it too.
"""
import json
import random
import warnings
from datetime import datetime, timedelta

import crontab._crontab
from crontab import CronTab
from pytimeparse.timeparse import timeparse

warnings.simplefilter("ignore")


def _end_of_month(dt):
    return (dt.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


crontab._crontab._end_of_month = _end_of_month
rnd = random.Random(20160724)


def durations():
    fixed = [
        "4 days", "12 hours", "1 day", "1w", "1.5 days", "1d12h", "1 day, 12 hours",
        "1.5h", "4days", "4 Days", "0 days", "-1 day", "1:30", "1:30:00", "5",
        "1 month", "1 year", "@daily", "0 5 * * ? *", "", " ", "-", "+", "1d 2:00:00",
        "1:02:03:04", ":30", ":30.5", "1:30.25", "1.5s", "0.1s", "- 1 minute",
        "+ 1 minute", "1 minute, 24 secs", "1m24s", "1.2 minutes", "1.2.3 days", ". days",
        "1. days", ".5 days", "1 day,", "1 day, ", ",1 day", "1 day,, 2 hours",
        "1h1d", "1d1d", "1 d / 2 h", "1 wk 2 dys 3 hrs 4 mins 5 secs", "1WEEKS",
        "  3 HOURS  ", "-1.5m 100s", "-1.5m 30.5s", "1:99", "123:30", "1:2",
        "1w 1:00:00", "1w1d 1:00:00", "1:00:00:00", "1 days 2 days", "1 second",
        "10 seconds", "2 minutes", "1e3 s", "1 ms", "1 min 30", "30 s 1 m",
    ]
    vocab = ["1", "2", "12", "0", "1.5", ".5", "1.", "007", " ", " ", ",", "/", ":",
             "30", "00", "-", "+", "w", "wk", "wks", "week", "weeks", "d", "dy", "dys",
             "day", "days", "h", "hr", "hrs", "hour", "hours", "m", "min", "mins",
             "minute", "minutes", "s", "sec", "secs", "second", "seconds", "D", "Hours",
             "MIN", "month", "y", "x"]
    gen = ["".join(rnd.choice(vocab) for _ in range(rnd.randint(1, 7))) for _ in range(3000)]
    units = ["w", "d", "h", "m", "s"]
    for _ in range(1500):  # well-formed ones, so that most outputs are values
        parts = []
        for u in units:
            if rnd.random() < 0.5:
                num = rnd.choice(["1", "2", "10", "0", "1.5", "0.25", "3"])
                parts.append(num + rnd.choice(["", " "]) + u + rnd.choice(["", " ", ", ", "/"]))
        gen.append(rnd.choice(["", "-", "+ "]) + "".join(parts))
    seen = set()
    for s in fixed + gen:
        if s in seen:
            continue
        seen.add(s)
        try:
            v = timeparse(s)
        except Exception:
            yield {"in": s, "error": True}
            continue
        if v is None:
            yield {"in": s, "none": True}
        elif isinstance(v, float):
            yield {"in": s, "float": v}
        else:
            yield {"in": s, "int": v}


def field(which):
    lo, hi = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7), (1970, 2099)][which]
    names = {3: ["jan", "Feb", "DEC", "jun"], 4: ["sun", "Mon", "FRI", "sat"]}.get(which, [])

    def value():
        if names and rnd.random() < 0.3:
            return rnd.choice(names)
        if rnd.random() < 0.02:
            return str(rnd.choice([lo - 1, hi + 1]))
        return str(rnd.randint(lo, hi))

    def item():
        r = rnd.random()
        if r < 0.25:
            return "*"
        if r < 0.45:
            return value()
        if r < 0.65:
            a, b = value(), value()
            if rnd.random() < 0.85 and a.isdigit() and b.isdigit() and int(a) > int(b):
                a, b = b, a
            return a + "-" + b
        if r < 0.75:
            return "*/" + str(rnd.randint(0, 13))
        if r < 0.85:
            return value() + "/" + str(rnd.randint(1, 9))
        if which in (2, 4) and r < 0.88:
            return "?"
        if which == 2 and r < 0.93:
            return "L"
        if which == 4 and r < 0.95:
            a = rnd.randint(0, 7)
            if rnd.random() < 0.5:
                return "L" + str(a)
            return "L%d-%d" % (a, rnd.randint(a, 7))
        if r < 0.97:
            return value()
        return rnd.choice(["x", "", "1-", "W", "1,", "?", "L", "L5"])

    if rnd.random() < 0.6:
        return item()
    return ",".join(item() for _ in range(rnd.randint(2, 3)))


def crons():
    fixed = [
        "30 * * * *", "0 1 ? * SUN", "@hourly", "@daily", "@weekly", "@monthly",
        "@yearly", "@annually", "0 5 * * ? *", "0 0 1 * 1", "0 0 13 * 5", "0 0 * * L5",
        "0 0 L * *", "0 0 * * sat-sun", "0 0 30 2 *", "0 0 * * * 2001", "0 0 29 2 *",
        "0 0 31 * *", "0 0 1 1 * 2030", "*/7 * * * *", "0 0 * * 0-0", "0 0 * * 3-0",
        "0 0 * * 7", "0 0 * * 5-7", "0 0 * * L7", "0 0 * * L0-2", "0 0 L,15 * *",
        "0 0 * * l5,1", "* * * * * *", "0 0 1 1 *", "59 23 31 12 * 2099",
        "0 0 * * * 1970-1975/2", "0 0 * * 1/2", "0 0 * * */2", "0 0 */10 * *",
        "0 0 * jan-mar *", "1 2 3 4 5 6 7", "1 2 3 4", "60 * * * *", "* 24 * * *",
        "* * 0 * *", "* * * 13 *", "* * * * 8", "? * * * *", "* * * * * 1969",
        "* * L * L5", "0 0 * * L", "0 0 L5 * *", "*/0 * * * *", "5-1 * * * *",
        "1-2-3 * * * *", "1/2/3 * * * *", "0 0 15W * *",
    ]
    starts = [datetime(2016, 7, 24, 2, 5), datetime(2011, 7, 17, 11, 25, 30),
              datetime(2024, 2, 28, 23, 59, 59), datetime(1969, 12, 31, 23, 59),
              datetime(2099, 12, 31, 23, 58)]
    gen = [" ".join(field(i) for i in range(5 if rnd.random() < 0.7 else 6)) for _ in range(2500)]
    for i, e in enumerate(fixed + gen):
        for j in range(3):
            if i < len(fixed) and j < len(starts):
                s = starts[(i + j) % len(starts)]
            else:
                s = datetime(rnd.randint(1995, 2099), rnd.randint(1, 12), rnd.randint(1, 28),
                             rnd.randint(0, 23), rnd.randint(0, 59), rnd.choice([0, 0, 30]))
            rec = {"expr": e, "from": s.isoformat() + "Z"}
            try:
                d = CronTab(e).next(now=s, default_utc=True)
            except Exception:
                rec["error"] = True
                yield rec
                break
            rec["next"] = None if d is None else (s + timedelta(seconds=d)).isoformat() + "Z"
            yield rec


with open("pytimeparse.jsonl", "w") as f:
    for rec in durations():
        f.write(json.dumps(rec) + "\n")
with open("crontab.jsonl", "w") as f:
    for rec in crons():
        f.write(json.dumps(rec) + "\n")
