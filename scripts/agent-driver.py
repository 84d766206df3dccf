#!/usr/bin/env python3
"""A minimal controller for scripts: runs an agent command, sends it one job after its
hello, answers its `authorize` requests with SigV4 presigned grants (docs/formats/
agent-protocol.md) and prints the result line. Exit status 0 when the result says ok.

usage: agent-driver.py JOB_JSON [--endpoint http://HOST:PORT --bucket B --key-id K
                       --secret-env VAR] -- AGENT_COMMAND...
The secret is read from the environment variable VAR, never from argv."""
import datetime, hashlib, hmac, json, os, subprocess, sys, urllib.parse


def quote(text):
    return urllib.parse.quote(text, safe="-_.~")


def presign(op, endpoint, bucket, key_id, secret, region="us-east-1", expires=900):
    host = endpoint.split("://", 1)[1].rstrip("/")
    path = "/" + bucket + ("" if op["bucket"] else "/" + op["key"])
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{date}/{region}/s3/aws4_request"
    added = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", f"{key_id}/{scope}"),
             ("X-Amz-Date", amz_date), ("X-Amz-Expires", str(expires)),
             ("X-Amz-SignedHeaders", "host")]
    query = sorted((quote(k), quote(v)) for k, v in [tuple(p) for p in op["query"]] + added)
    canonical = "\n".join([op["method"], quote(path).replace("%2F", "/"),
                           "&".join(f"{k}={v}" for k, v in query), f"host:{host}", "", "host",
                           "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return [list(p) for p in added] + [["X-Amz-Signature", signature]]


def main(argv):
    split = argv.index("--")
    job, options, command = argv[1], argv[2:split], argv[split + 1:]
    opts = dict(zip(options[::2], options[1::2]))
    secret = os.environ.get(opts.get("--secret-env", ""), "")
    agent = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ok = False
    for line in agent.stdout:
        event = json.loads(line)
        if event["type"] == "hello":
            agent.stdin.write(job + "\n")
        elif event["type"] == "authorize":
            grant = presign(event, opts["--endpoint"], opts["--bucket"], opts["--key-id"], secret)
            agent.stdin.write(json.dumps({"type": "grant", "id": event["id"], "query": grant}) + "\n")
        elif event["type"] == "result":
            print(line, end="")
            ok = event["ok"]
        else:
            continue
        agent.stdin.flush()
    agent.wait()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
