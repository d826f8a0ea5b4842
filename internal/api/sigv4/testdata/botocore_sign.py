"""Sign a set of requests with botocore (the AWS CLI's and boto3's signer) and
print them as JSON for TestBotocore. Run by the Go test; needs only botocore.

Each request is signed "now", so the Go side verifies with the real clock.
"""
import json
import sys

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BASE = "http://127.0.0.1:4566"
plain = Credentials("AKIAMAILTRAIL00000A", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
session = Credentials("AKIAMAILTRAIL00000B", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "FQoGZXIvYXdzEXAMPLETOKEN")

JSON = {"Content-Type": "application/x-amz-json-1.1"}


def case(name, method, path, headers=None, body=b"", creds=plain, presign=False, region="us-east-1"):
    req = AWSRequest(method=method, url=BASE + path, headers=dict(headers or {}), data=body)
    if presign:
        SigV4QueryAuth(creds, "logs", region, expires=300).add_auth(req)
    else:
        SigV4Auth(creds, "logs", region).add_auth(req)
    p = req.prepare()
    return {
        "name": name,
        "method": p.method,
        "url": p.url,
        "headers": [[k, v] for k, v in p.headers.items()],
        "body": (p.body or b"").decode("latin-1") if isinstance(p.body, bytes) else (p.body or ""),
    }


out = [
    case("PutLogEvents like the CLI", "POST", "/",
         dict(JSON, **{"X-Amz-Target": "Logs_20140328.PutLogEvents"}),
         b'{"logGroupName": "/audit/test", "logStreamName": "s1", "logEvents": [{"timestamp": 1, "message": "caf\xc3\xa9 \\"q\\""}]}'),
    case("session token", "POST", "/",
         dict(JSON, **{"X-Amz-Target": "Logs_20140328.DescribeLogGroups"}), b"{}", creds=session, region="eu-central-1"),
    case("encoded path and query", "GET", "/a%20b/c%2Fd/%E2%9C%93?y=a%20b&x=1&z=%2F&e=&u=%E2%9C%93"),
    case("unnormalised path", "GET", "//double//slash/./x/../y"),
    case("header with runs of spaces", "POST", "/",
         dict(JSON, **{"X-Amz-Target": "Logs_20140328.StartQuery", "X-Amz-Meta-Note": "a   b    c"}), b"{}"),
    case("presigned GET", "GET", "/?group=%2Faudit%2Ftest&limit=5", presign=True),
    case("presigned with session token", "GET", "/tail", creds=session, presign=True),
]
json.dump(out, sys.stdout)
