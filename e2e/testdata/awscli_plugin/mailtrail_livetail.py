"""AWS CLI plugin: print `aws logs start-live-tail` as JSON on AWS CLI 2.9.

Why this exists: the AWS CLI renders a live tail session itself only from
version 2.15 on. Debian bookworm ships awscli 2.9.19, whose bundled botocore
predates StartLiveTail; mailtrail's end-to-end tests add the operation to it
with AWS_DATA_PATH (testdata/botocore), and the request, its SigV4 signature
and the decoding of the event-stream answer are then the CLI's own. What
2.9.19 cannot do is print the answer: its output formatters walk the parsed
response and meet a botocore EventStream, an iterator over the network
("Circular reference detected" from the json formatter, "cannot represent an
object" from yaml).

This plugin registers an after-call handler for StartLiveTail that drains the
EventStream the CLI has already decoded, keeps its events, closes the
connection, and puts the events back as a plain list, so the CLI's own JSON
formatter prints them:

    {"responseStream": [{"sessionStart": {...}}, {"sessionUpdate": {...}}, ...]}

It stops after MAILTRAIL_TAIL_EVENTS log events (sessionResults entries,
default 1) or MAILTRAIL_TAIL_SECONDS seconds (default 20), whichever comes
first; a live tail otherwise lasts three hours. When MAILTRAIL_TAIL_READY
names a file, the plugin creates it on sessionStart, so that a test knows
when events it puts will be tailed. An exception event ending the
session (SessionTimeoutException, SessionStreamingException) is raised by
botocore's EventStream and reaches the CLI's error handling unchanged.

Load it with an AWS config file (AWS_CONFIG_FILE):

    [plugins]
    cli_legacy_plugin_path = <this directory>
    livetail = mailtrail_livetail
"""
import os
import threading
import time


def awscli_initialize(cli):
    # Handlers are keyed by the service's hyphenated id, "cloudwatch-logs".
    cli.register("after-call.cloudwatch-logs.StartLiveTail", _drain)


def _drain(parsed, **kwargs):
    stream = parsed.get("responseStream")
    if stream is None or isinstance(stream, list):
        return  # an error answer, or already drained
    want = int(os.environ.get("MAILTRAIL_TAIL_EVENTS", "1"))
    seconds = float(os.environ.get("MAILTRAIL_TAIL_SECONDS", "20"))
    # Iterating the stream blocks until the server sends the next frame
    # (once a second for sessionUpdate), so the deadline is enforced by
    # closing the stream from a timer: the iteration then ends.
    expired = threading.Event()

    def expire():
        expired.set()
        stream.close()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    ready = os.environ.get("MAILTRAIL_TAIL_READY")
    events, seen = [], 0
    try:
        for event in stream:
            events.append(event)
            if ready and "sessionStart" in event:
                open(ready, "w").close()
            seen += len(event.get("sessionUpdate", {}).get("sessionResults", []))
            if seen >= want:
                break
    except Exception:
        # Closing the connection under a blocked read surfaces as a read
        # error; past the deadline that is the expected way out.
        if not expired.is_set():
            raise
    finally:
        timer.cancel()
        stream.close()
    parsed["responseStream"] = events
