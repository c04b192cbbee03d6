# moto's server with one endpoint more, for states its API cannot stage
# (a snapshot's StartTime, EC2's copy placeholder VolumeId, the error
# state): POST /ebs-snapper-test/snapshot with a JSON body
#   {"region": "us-east-1", "snapshot_id": "snap-…",
#    "start_time": "2026-11-01T00:00:00Z", "volume_id": "vol-ffffffff",
#    "state": "error"}
# (every key but region and snapshot_id optional) changes that snapshot in
# moto's EC2 backend of account 123456789012. Everything else is moto.
import json
import sys
import types
from datetime import datetime

import moto.server as server

PATH = "/ebs-snapper-test/snapshot"


def stage(environ, start_response):
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(size) or b"{}")
        from moto.ec2.models import ec2_backends

        backend = ec2_backends["123456789012"][body["region"]]
        snap = backend.snapshots[body["snapshot_id"]]
        if "start_time" in body:
            t = datetime.strptime(body["start_time"], "%Y-%m-%dT%H:%M:%SZ")
            snap.start_time = t
        if "volume_id" in body:
            snap.volume = types.SimpleNamespace(id=body["volume_id"], size=snap.volume.size)
        if "state" in body:
            snap.status = body["state"]
        status, out = "200 OK", b"{}"
    except Exception as e:  # the test reads the message
        status, out = "400 Bad Request", repr(e).encode()
    start_response(status, [("Content-Type", "application/json")])
    return [out]


run_simple = server.run_simple


def run_staged(host, port, app, **kw):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST":
            return stage(environ, start_response)
        return app(environ, start_response)

    return run_simple(host, port, wrapped, **kw)


server.run_simple = run_staged
server.main(sys.argv[1:])
