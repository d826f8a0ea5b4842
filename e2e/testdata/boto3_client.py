"""boto3 client for mailtrail's end-to-end tests.

Reads the endpoint from MAILTRAIL_ENDPOINT and events from the JSON file
named on the command line; prints one JSON object with what it observed.
Credentials come from the usual AWS_* environment variables.

After the first scenario (its observations are checked by boto3_test.go),
every operation is called on a second group the way a boto3 script would,
through boto3's paginators and modeled error classes; each expectation that
does not hold is one entry of "failures" in the output, and the Go test
reports them. The second account's keys (MAILTRAIL_KEY_B, MAILTRAIL_SECRET_B)
check isolation.
"""
import json
import os
import sys
import threading
import time

import boto3
from botocore.config import Config

endpoint = os.environ["MAILTRAIL_ENDPOINT"]
events = json.load(open(sys.argv[1]))
cfg = Config(inject_host_prefix=False, retries={"max_attempts": 1})
logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1", config=cfg)
out = {}

group, stream = "/boto3/audit", "s1"
logs.create_log_group(logGroupName=group)
logs.create_log_stream(logGroupName=group, logStreamName=stream)
try:
    logs.create_log_group(logGroupName=group)
    out["duplicate"] = "no error"
except logs.exceptions.ResourceAlreadyExistsException as e:
    out["duplicate"] = e.response["Error"]["Code"]

r = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
out["rejected"] = r.get("rejectedLogEventsInfo")

now = int(time.time())
q = logs.start_query(logGroupNames=[group], startTime=now - 3600, endTime=now + 60,
                     queryString="filter auth_successful = 0 | fields user, source_ip | sort user asc")
while True:
    res = logs.get_query_results(queryId=q["queryId"])
    if res["status"] not in ("Scheduled", "Running"):
        break
    time.sleep(0.05)
out["status"] = res["status"]
out["rows"] = [{f["field"]: f["value"] for f in row if f["field"] != "@ptr"} for row in res["results"]]
out["recordsScanned"] = res["statistics"]["recordsScanned"]

# Live tail: events put after the session starts arrive in sessionUpdate.
arn = "arn:aws:logs:us-east-1:%s:log-group:%s" % (os.environ["MAILTRAIL_ACCOUNT"], group)
resp = logs.start_live_tail(logGroupIdentifiers=[arn], logEventFilterPattern='"qq.com"')

def put_later():
    time.sleep(0.5)
    writer = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1", config=cfg)
    writer.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

threading.Thread(target=put_later, daemon=True).start()
tailed, started = [], False
for ev in resp["responseStream"]:
    if "sessionStart" in ev:
        started = True
    elif "sessionUpdate" in ev:
        tailed += [r["message"] for r in ev["sessionUpdate"]["sessionResults"]]
        if len(tailed) >= 2:
            break
out["tailStarted"] = started
out["tailed"] = len(tailed)

failures = []


def check(ok, what, got=None):
    if not ok:
        failures.append("%s: got %r" % (what, got) if got is not None else what)
    return ok


def error_of(exc_class, fn, **kw):
    """Calls fn and returns the error code if it raised exc_class."""
    try:
        r = fn(**kw)
        return "no error: %r" % {k: v for k, v in r.items() if k != "ResponseMetadata"}
    except exc_class as e:
        return e.response["Error"]["Code"]
    except Exception as e:  # any other error: report it as it is
        return "%s: %s" % (type(e).__name__, e)


def want_error(code, fn, **kw):
    exc = getattr(logs.exceptions, code)
    got = error_of(exc, fn, **kw)
    check(got == code, "%s(%s) should raise %s" % (fn.__name__, kw, code), got)


def paginate(op, **kw):
    """All items of op through boto3's paginator, and the number of pages;
    a paginator that repeats a token raises, one that never ends is cut."""
    pages = 0
    key = {"describe_log_groups": "logGroups", "describe_log_streams": "logStreams",
           "filter_log_events": "events", "describe_queries": "queries"}[op]
    items = []
    for page in logs.get_paginator(op).paginate(**kw):
        pages += 1
        items += page[key]
        if pages > 100:
            check(False, "%s paginator does not end" % op)
            break
    return items, pages


def query(**kw):
    qid = logs.start_query(**kw)["queryId"]
    deadline = time.time() + 60
    while True:
        r = logs.get_query_results(queryId=qid)
        if r["status"] not in ("Scheduled", "Running") or time.time() > deadline:
            check(r["status"] == "Complete", "query %r status" % kw["queryString"], r["status"])
            return qid, r
        time.sleep(0.02)


def rows_of(r):
    return [{f["field"]: f["value"] for f in row} for row in r["results"]]


account = os.environ["MAILTRAIL_ACCOUNT"]
g = "/boto3/ops"
garn = "arn:aws:logs:us-east-1:%s:log-group:%s" % (account, g)
nowms = int(time.time() * 1000)
logs_b = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1", config=cfg,
                      aws_access_key_id=os.environ["MAILTRAIL_KEY_B"],
                      aws_secret_access_key=os.environ["MAILTRAIL_SECRET_B"])

# CreateLogGroup (with tags), CreateLogStream, and their errors.
logs.create_log_group(logGroupName=g, tags={"team": "mail"})
for name in (g + "/b", g + "/a"):
    logs.create_log_group(logGroupName=name)
want_error("InvalidParameterException", logs.create_log_group, logGroupName="bad name!")
for st in ("org-2", "org-1"):
    logs.create_log_stream(logGroupName=g, logStreamName=st)
want_error("ResourceAlreadyExistsException", logs.create_log_stream, logGroupName=g, logStreamName="org-1")
want_error("ResourceNotFoundException", logs.create_log_stream, logGroupName="/nope", logStreamName="s")

# PutLogEvents: the scenario into org-1 (a minute earlier), 25 numbered
# events into org-2, one event 3 h ahead rejected, an unordered batch refused.
seed = [{"timestamp": e["timestamp"] - 60000, "message": e["message"]} for e in events]
r = logs.put_log_events(logGroupName=g, logStreamName="org-1", logEvents=seed)
check("rejectedLogEventsInfo" not in r and r.get("nextSequenceToken"), "put_log_events answer", r)
numbered = [{"timestamp": nowms - 30000 + i, "message": '{"n":%d,"kind":"tick"}' % i} for i in range(25)]
logs.put_log_events(logGroupName=g, logStreamName="org-2", logEvents=numbered)
late = {"timestamp": nowms, "message": '{"n":25,"kind":"late"}'}
r = logs.put_log_events(logGroupName=g, logStreamName="org-2",
                        logEvents=[late, {"timestamp": nowms + 3 * 3600 * 1000, "message": "too new"}])
check(r.get("rejectedLogEventsInfo") == {"tooNewLogEventStartIndex": 1}, "put_log_events 3 h ahead", r.get("rejectedLogEventsInfo"))
numbered.append(late)
want_error("InvalidParameterException", logs.put_log_events, logGroupName=g, logStreamName="org-1",
           logEvents=[{"timestamp": nowms, "message": "b"}, {"timestamp": nowms - 1000, "message": "a"}])
want_error("ResourceNotFoundException", logs.put_log_events, logGroupName=g, logStreamName="nope",
           logEvents=[{"timestamp": nowms, "message": "x"}])

# DescribeLogGroups and DescribeLogStreams through paginators, a page each.
groups, pages = paginate("describe_log_groups", logGroupNamePrefix=g, PaginationConfig={"PageSize": 1})
check([x["logGroupName"] for x in groups] == [g, g + "/a", g + "/b"] and pages >= 3, "describe_log_groups by pages of 1",
      ([x["logGroupName"] for x in groups], pages))
check(groups[0].get("arn") == garn + ":*" and groups[0].get("creationTime", 0) > nowms - 60000 and "retentionInDays" not in groups[0],
      "describe_log_groups fields", groups[0])
want_error("InvalidParameterException", logs.describe_log_groups, logGroupNamePrefix="/a", logGroupNamePattern="b")
streams, pages = paginate("describe_log_streams", logGroupName=g, PaginationConfig={"PageSize": 1})
check([x["logStreamName"] for x in streams] == ["org-1", "org-2"] and pages >= 2, "describe_log_streams by pages of 1", streams)
if streams:
    check(streams[0].get("firstEventTimestamp") == seed[0]["timestamp"] and streams[0].get("lastEventTimestamp") == seed[-1]["timestamp"]
          and streams[0].get("arn") == garn + ":log-stream:org-1", "describe_log_streams org-1", streams[0])
r = logs.describe_log_streams(logGroupName=g, orderBy="LastEventTime", descending=True)
check([x["logStreamName"] for x in r["logStreams"]] == ["org-2", "org-1"], "describe_log_streams by last event", r["logStreams"])
want_error("InvalidParameterException", logs.describe_log_streams, logGroupName=g, orderBy="LastEventTime", logStreamNamePrefix="org")

# GetLogEvents (not auto-paginated by botocore): forward from the head by
# pages of 4 until the forward token comes back unchanged, then backward.
def walk(token_key, **kw):
    pages, token = [], None
    for _ in range(30):
        args = dict(kw, nextToken=token) if token else kw
        r = logs.get_log_events(logGroupName=g, logStreamName="org-2", limit=4, **args)
        pages.append([(e["timestamp"], e["message"]) for e in r["events"]])
        check(r["nextForwardToken"].startswith("f/") and r["nextBackwardToken"].startswith("b/"), "get_log_events tokens",
              (r["nextForwardToken"], r["nextBackwardToken"]))
        if token == r[token_key]:
            return pages
        token = r[token_key]
    check(False, "get_log_events %s never repeats" % token_key)
    return pages

want = [(e["timestamp"], e["message"]) for e in numbered]
fwd = walk("nextForwardToken", startFromHead=True)
check(sum(fwd, []) == want, "get_log_events forward by pages of 4", sum(fwd, []))
back = walk("nextBackwardToken")
check(back[0] == want[-4:], "get_log_events first page from the tail", back[0])
check(sum(reversed(back), []) == want, "get_log_events backward by pages of 4", sum(reversed(back), []))
r = logs.get_log_events(logGroupName=g, logStreamName="org-1", startFromHead=True,
                        startTime=seed[2]["timestamp"], endTime=seed[5]["timestamp"])
check([e["message"] for e in r["events"]] == [e["message"] for e in seed[2:5]], "get_log_events [start, end)", len(r["events"]))
want_error("ResourceNotFoundException", logs.get_log_events, logGroupName=g, logStreamName="nope")

# FilterLogEvents through the paginator, with each kind of pattern.
failed, _ = paginate("filter_log_events", logGroupName=g, filterPattern="{ $.auth_successful IS FALSE }", PaginationConfig={"PageSize": 1})
check([(e["timestamp"], e["message"], e["logStreamName"]) for e in failed] ==
      [(seed[i]["timestamp"], seed[i]["message"], "org-1") for i in (2, 3, 8)], "filter_log_events IS FALSE", failed)
check(len({e["eventId"] for e in failed}) == 3, "filter_log_events eventIds distinct", [e.get("eventId") for e in failed])
for pattern, kw, n in [('"qq.com"', {}, 2), ("?mallory ?carol", {}, 2), ('IMAP -"203.0.113.9"', {}, 2),
                       ("{ $.n >= 20 }", {}, 6), ("{ $.n >= 20 }", {"logStreamNames": ["org-1"]}, 0),
                       ('{ $.kind = "tick" }', {"logStreamNamePrefix": "org-2", "startTime": numbered[10]["timestamp"]}, 15),
                       ("", {}, len(seed) + len(numbered))]:
    got, _ = paginate("filter_log_events", logGroupName=g, filterPattern=pattern, PaginationConfig={"PageSize": 7}, **kw)
    check(len(got) == n, "filter_log_events %r %r: want %d events" % (pattern, kw, n), len(got))
    check([e["timestamp"] for e in got] == sorted(e["timestamp"] for e in got), "filter_log_events %r in time order" % pattern)
want_error("InvalidParameterException", logs.filter_log_events, logGroupName=g, filterPattern="{ $.a = ")

# Queries, GetLogRecord on an @ptr, StopQuery on a finished query.
now = int(time.time())
st, en = now - 3600, now + 60
_, r = query(logGroupName=g, startTime=st, endTime=en,
             queryString="fields @timestamp, user, source_ip | filter auth_successful = 0 | sort @timestamp desc")
rows = rows_of(r)
check([x.get("user") for x in rows] == ["mallory", "carol", "bob"] and all(x.get("@ptr") for x in rows), "failed logins", rows)
check(r["statistics"]["recordsMatched"] == 3 and r["statistics"]["bytesScanned"] > 0, "statistics", r["statistics"])
if rows:
    rec = logs.get_log_record(logRecordPointer=rows[0]["@ptr"])["logRecord"]
    check(rec.get("@message") == seed[8]["message"] and rec.get("user") == "mallory" and rec.get("@logStream") == "org-1",
          "get_log_record", rec)
    got = error_of(Exception, logs_b.get_log_record, logRecordPointer=rows[0]["@ptr"])
    check(not got.startswith("no error"), "account B reads account A's record", got)
want_error("InvalidParameterException", logs.get_log_record, logRecordPointer="not-a-pointer")
_, r = query(logGroupIdentifiers=[garn, g + "/a"], startTime=st, endTime=en,
             queryString="stats count(*) as c by @logStream | sort @logStream asc")
check(rows_of(r) == [{"@logStream": "org-1", "c": "10"}, {"@logStream": "org-2", "c": "26"}], "count by @logStream", rows_of(r))
want_error("MalformedQueryException", logs.start_query, logGroupName=g, startTime=st, endTime=en, queryString="fields a | frobnicate b")
want_error("ResourceNotFoundException", logs.start_query, logGroupName="/nope", startTime=st, endTime=en, queryString="fields @message")
want_error("ResourceNotFoundException", logs.get_query_results, queryId="00000000-0000-0000-0000-000000000000")
done, _ = query(logGroupName=g, startTime=st, endTime=en, queryString="fields @message | limit 1")
want_error("InvalidParameterException", logs.stop_query, queryId=done)
got = error_of(logs_b.exceptions.ResourceNotFoundException, logs_b.stop_query, queryId=done)
check(got == "ResourceNotFoundException", "account B stops account A's query", got)

# DescribeQueries through its paginator, newest first.
qs, pages = paginate("describe_queries", logGroupName=g, PaginationConfig={"PageSize": 2})
check(len(qs) == 3 and pages >= 2, "describe_queries by pages of 2: want 3 queries", (len(qs), pages))
check(qs and qs[0]["queryId"] == done, "describe_queries newest first", [q["queryId"] for q in qs])
for q in qs:
    check(q["status"] == "Complete" and q["queryString"].startswith('SOURCE "%s"' % g) and q["logGroupName"] == g
          and q["createTime"] > nowms - 60000, "describe_queries entry", q)
check(logs.describe_queries(status="Cancelled")["queries"] == [], "describe_queries status Cancelled")
check(logs_b.describe_queries()["queries"] == [], "account B sees account A's queries")

# Query definitions.
qd = logs.put_query_definition(name="mail/failed logins", queryString="filter auth_successful = 0", logGroupNames=[g])["queryDefinitionId"]
qd2 = logs.put_query_definition(queryDefinitionId=qd, name="mail/failed logins",
                                queryString="filter auth_successful = 0 | stats count(*) by source_ip")["queryDefinitionId"]
check(qd and qd2 == qd, "put_query_definition update keeps the id", (qd, qd2))
logs.put_query_definition(name="mail/qq", queryString='filter event.from like "qq.com"')
logs.put_query_definition(name="other", queryString="fields @message")
defs, token = [], None
for _ in range(10):
    r = logs.describe_query_definitions(queryDefinitionNamePrefix="mail/", maxResults=1, **({"nextToken": token} if token else {}))
    defs += r["queryDefinitions"]
    token = r.get("nextToken")
    if not token:
        break
check(sorted(d["name"] for d in defs) == ["mail/failed logins", "mail/qq"], "describe_query_definitions by pages of 1", defs)
mine = [d for d in defs if d["queryDefinitionId"] == qd]
check(mine and mine[0]["queryString"].endswith("by source_ip") and not mine[0].get("logGroupNames"), "updated definition", mine)
check(logs.delete_query_definition(queryDefinitionId=qd)["success"] is True, "delete_query_definition success")
want_error("ResourceNotFoundException", logs.delete_query_definition, queryDefinitionId=qd)
check(len(logs.describe_query_definitions()["queryDefinitions"]) == 2, "definitions left after delete")
check(logs_b.describe_query_definitions()["queryDefinitions"] == [], "account B sees account A's definitions")

# Retention.
logs.put_retention_policy(logGroupName=g, retentionInDays=30)
want_error("InvalidParameterException", logs.put_retention_policy, logGroupName=g, retentionInDays=31)
check(logs.describe_log_groups(logGroupNamePrefix=g, limit=1)["logGroups"][0].get("retentionInDays") == 30, "retention 30")
logs.delete_retention_policy(logGroupName=g)
check("retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=g, limit=1)["logGroups"][0], "retention deleted")
want_error("ResourceNotFoundException", logs.put_retention_policy, logGroupName="/nope", retentionInDays=30)

# Tags by ARN.
check(logs.list_tags_for_resource(resourceArn=garn)["tags"] == {"team": "mail"}, "tags from create_log_group")
logs.tag_resource(resourceArn=garn, tags={"env": "test", "team": "security"})
check(logs.list_tags_for_resource(resourceArn=garn)["tags"] == {"env": "test", "team": "security"}, "tags after tag_resource")
logs.untag_resource(resourceArn=garn, tagKeys=["team", "absent"])
check(logs.list_tags_for_resource(resourceArn=garn)["tags"] == {"env": "test"}, "tags after untag_resource")
got = error_of(Exception, logs_b.tag_resource, resourceArn=garn, tags={"x": "y"})
check(not got.startswith("no error"), "account B tags account A's group", got)
want_error("ResourceNotFoundException", logs.list_tags_for_resource, resourceArn=garn + "/none")

# GetLogGroupFields: share of the 36 events having each field.
fields = {f["name"]: f["percent"] for f in logs.get_log_group_fields(logGroupName=g)["logGroupFields"]}
for name, pct in {"n": 72, "kind": 72, "auth_successful": 11, "event.eventName": 11, "source_ip": 17, "@message": 100}.items():
    check(name in fields and abs(fields[name] - pct) <= 1, "get_log_group_fields %s: want about %d%%" % (name, pct), fields.get(name))
want_error("ResourceNotFoundException", logs.get_log_group_fields, logGroupName="/nope")

# Live tail of one stream by name, with a JSON pattern.
resp = logs.start_live_tail(logGroupIdentifiers=[garn], logStreamNames=["org-2"], logEventFilterPattern="{ $.n > 100 }")
def put_ticks():
    time.sleep(0.3)
    w = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1", config=cfg)
    t = int(time.time() * 1000)
    w.put_log_events(logGroupName=g, logStreamName="org-1", logEvents=[{"timestamp": t, "message": '{"n":500}'}])
    w.put_log_events(logGroupName=g, logStreamName="org-2", logEvents=[
        {"timestamp": t, "message": '{"n":%d}' % n} for n in (99, 101, 102)])
threading.Thread(target=put_ticks, daemon=True).start()
start, tail = None, []
for ev in resp["responseStream"]:
    if "sessionStart" in ev:
        start = ev["sessionStart"]
    elif "sessionUpdate" in ev:
        tail += ev["sessionUpdate"]["sessionResults"]
        if len(tail) >= 2:
            break
resp["responseStream"].close()
check(start and start.get("sessionId") and start.get("logGroupIdentifiers") == [garn] and start.get("logStreamNames") == ["org-2"]
      and start.get("logEventFilterPattern") == "{ $.n > 100 }", "live tail sessionStart", start)
check([(e["logStreamName"], e["message"]) for e in tail] == [("org-2", '{"n":101}'), ("org-2", '{"n":102}')], "live tail events", tail)
want_error("ResourceNotFoundException", logs.start_live_tail, logGroupIdentifiers=[garn + "/none"])

# Deletions and the errors after them.
logs.delete_log_stream(logGroupName=g, logStreamName="org-2")
check([x["logStreamName"] for x in logs.describe_log_streams(logGroupName=g)["logStreams"]] == ["org-1"], "streams after delete_log_stream")
want_error("ResourceNotFoundException", logs.delete_log_stream, logGroupName=g, logStreamName="org-2")
want_error("ResourceNotFoundException", logs.get_log_events, logGroupName=g, logStreamName="org-2")
logs.delete_log_group(logGroupName=g)
want_error("ResourceNotFoundException", logs.delete_log_group, logGroupName=g)
want_error("ResourceNotFoundException", logs.filter_log_events, logGroupName=g)
want_error("ResourceNotFoundException", logs.start_query, logGroupName=g, startTime=st, endTime=en, queryString="fields @message")
check([x["logGroupName"] for x in logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"]] == [g + "/a", g + "/b"],
      "groups after delete_log_group")

out["failures"] = failures
print(json.dumps(out))
