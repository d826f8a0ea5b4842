"""boto3 client for mailtrail's end-to-end tests.

Reads the endpoint from MAILTRAIL_ENDPOINT and events from the JSON file
named on the command line; prints one JSON object with what it observed.
Credentials come from the usual AWS_* environment variables.
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
print(json.dumps(out))
