"""moto 5.2.1 with what it lacks for ebs-snapper's tests, then its server.

moto does not implement EBS snapshot locks (LockSnapshot,
DescribeLockedSnapshots), DisableImage (nor DescribeImages'
IncludeDisabled), or the Recycle Bin API. This adds them, in memory and
only as far as ebs-snapper and its tests use them:

- LockSnapshot stores a governance or compliance lock on the snapshot's
  backend (so a reset clears it); DescribeLockedSnapshots lists the locks,
  filtered by lock-state; DeleteSnapshot of a snapshot under an active lock
  answers SnapshotLocked.
- DisableImage marks an AMI disabled; DescribeImages then lists it only
  with IncludeDisabled=true, in state "disabled".
- Recycle Bin: CreateRule, ListRules and GetRule for EBS_SNAPSHOT rules,
  per region, cleared by /moto-api/reset.
- AssumeRole into a member account of a moto organisation (one that
  Organizations CreateAccount made) behaves as AWS does: the role must
  exist in that account (CreateAccount makes OrganizationAccountAccessRole
  there, as AWS does), an external id its trust policy requires must be
  given, and a closed (SUSPENDED) account refuses; each refusal is STS's
  AccessDenied. moto lets any role of any account be assumed; other
  accounts (222222222222 of the deploy tests) keep that.
- Service-managed StackSets: ListStackInstances names each instance's
  organizational unit, and DeleteStackInstances by DeploymentTargets
  deletes the units' instances.

It only patches: stage.py, run after it in the same interpreter, starts the
server (python3 -c "$(cat patch.py stage.py)" -H 127.0.0.1 -p PORT).
"""
import datetime as _dt
import json
import re
import uuid

import moto.server
from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.ec2.responses import EC2Response


def _locks(backend):
    if not hasattr(backend, "snapshot_locks"):
        backend.snapshot_locks = {}
    return backend.snapshot_locks


def _now():
    return _dt.datetime.now(_dt.timezone.utc)


def _active(lock):
    return lock["LockExpiresOn"] > _now()


def lock_snapshot(self):
    snap_id = self._get_param("SnapshotId")
    self.ec2_backend.get_snapshot(snap_id)  # InvalidSnapshot.NotFound
    mode = self._get_param("LockMode")
    duration = self._get_param("LockDuration")
    expires = self._get_param("ExpirationDate")
    cool_off = self._get_param("CoolOffPeriod")
    if mode not in ("governance", "compliance"):
        raise EC2ClientError("InvalidParameterValue", "LockMode must be governance or compliance")
    if (duration is None) == (expires is None):
        raise EC2ClientError("InvalidParameterCombination", "Specify either LockDuration or ExpirationDate")
    if isinstance(expires, _dt.datetime):
        until = expires if expires.tzinfo else expires.replace(tzinfo=_dt.timezone.utc)
    elif expires is not None:
        until = _dt.datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
    else:
        until = _now() + _dt.timedelta(days=int(duration))
    state = mode
    if cool_off is not None:
        if mode != "compliance":
            raise EC2ClientError("InvalidParameterCombination", "CoolOffPeriod is for compliance mode only")
        state = "compliance-cooloff"
    lock = {"SnapshotId": snap_id, "LockState": state, "LockExpiresOn": until,
            "OwnerId": self.current_account, "LockCreatedOn": _now()}
    _locks(self.ec2_backend)[snap_id] = lock
    return ActionResult(dict(lock))


def describe_locked_snapshots(self):
    states = None
    for name, values in self._filters_from_querystring().items():
        if name != "lock-state":
            raise EC2ClientError("InvalidParameterValue", "unsupported filter " + name)
        states = values
    out = []
    for lock in _locks(self.ec2_backend).values():
        shown = dict(lock)
        if not _active(lock):
            shown["LockState"] = "expired"
        if states is None or shown["LockState"] in states:
            out.append(shown)
    return ActionResult({"Snapshots": out})


def disable_image(self):
    ami_id = self._get_param("ImageId")
    self.ec2_backend.describe_images(ami_ids=[ami_id])  # InvalidAMIID.NotFound
    self.ec2_backend.amis[ami_id].state = "disabled"
    return ActionResult({"Return": True})


_describe_images = EC2Response.describe_images


def describe_images(self):
    res = _describe_images(self)
    if str(self._get_param("IncludeDisabled")).lower() != "true":
        res._result["Images"] = [i for i in res._result["Images"] if getattr(i, "state", "") != "disabled"]
    return res


_delete_snapshot = EC2Backend.delete_snapshot


def delete_snapshot(self, snapshot_id):
    lock = _locks(self).get(snapshot_id)
    if lock and _active(lock):
        raise EC2ClientError("SnapshotLocked", "The snapshot %s is locked in %s mode until %s"
                             % (snapshot_id, lock["LockState"], lock["LockExpiresOn"].isoformat()))
    return _delete_snapshot(self, snapshot_id)


EC2Response.lock_snapshot = lock_snapshot
EC2Response.describe_locked_snapshots = describe_locked_snapshots
EC2Response.disable_image = disable_image
EC2Response.describe_images = describe_images
EC2Backend.delete_snapshot = delete_snapshot

# Recycle Bin (REST-JSON): rules per region, answered before moto's
# dispatcher, which knows no "rbin" service.
_rules = {}
_scope = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/rbin/")


def _json(start_response, status, body):
    data = json.dumps(body, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _rbin(environ, start_response, region):
    rules = _rules.setdefault(region, {})
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(size) or b"{}") if size else {}
    if method == "POST" and path == "/rules":
        rid = uuid.uuid4().hex[:11]
        rule = {"Identifier": rid, "ResourceType": body.get("ResourceType"), "RetentionPeriod": body.get("RetentionPeriod"),
                "ResourceTags": body.get("ResourceTags", []), "ExcludeResourceTags": body.get("ExcludeResourceTags", []),
                "Description": body.get("Description", ""), "Status": "available", "LockState": "unlocked"}
        rules[rid] = rule
        return _json(start_response, "200 OK", rule)
    if method == "POST" and path == "/list-rules":
        listed = [{"Identifier": r["Identifier"], "RetentionPeriod": r["RetentionPeriod"], "LockState": r["LockState"]}
                  for r in rules.values() if r["ResourceType"] == body.get("ResourceType")]
        return _json(start_response, "200 OK", {"Rules": listed})
    if method == "GET" and path.startswith("/rules/"):
        rule = rules.get(path[len("/rules/"):])
        if rule is None:
            return _json(start_response, "404 Not Found", {"__type": "ResourceNotFoundException", "message": "rule not found"})
        return _json(start_response, "200 OK", rule)
    return _json(start_response, "400 Bad Request", {"__type": "ValidationException", "message": "not modelled: " + method + " " + path})


# AssumeRole into organisation members (see the docstring).
from moto.iam.models import iam_backends as _iam_backends
from moto.organizations.models import organizations_backends as _org_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend

_assume = STSBackend.assume_role


def _denied(msg):
    return STSClientError("AccessDenied", msg)


def assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id):
    m = re.search(r":iam::([0-9]{12}):role/(?:.*/)?([^/]+)$", role_arn)
    member = m and _org_backends.master_accounts.get(m.group(1))
    if member:
        account_id, name = m.group(1), m.group(2)
        org = _org_backends[member[0]][member[1]]
        if any(a.id == account_id and a.status != "ACTIVE" for a in org.accounts):
            raise _denied(f"account {account_id} is suspended")
        roles = [r for r in _iam_backends[account_id]["global"].roles.values() if r.name == name]
        if not roles:
            raise _denied(f"User is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
        trust = json.loads(roles[0].assume_role_policy_document or "{}")
        for st in trust.get("Statement", []):
            want = st.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
            if want is not None and want != external_id:
                raise _denied(f"User is not authorized to perform: sts:AssumeRole on resource: {role_arn} (external id)")
    return _assume(self, region_name, role_session_name, role_arn, policy, duration, external_id)


STSBackend.assume_role = assume_role

_call = moto.server.DomainDispatcherApplication.__call__


def __call__(self, environ, start_response):
    m = _scope.search(environ.get("HTTP_AUTHORIZATION", ""))
    if m:
        return _rbin(environ, start_response, m.group(1))
    if environ.get("PATH_INFO") == "/moto-api/reset":
        _rules.clear()
    return _call(self, environ, start_response)


moto.server.DomainDispatcherApplication.__call__ = __call__


# StackSets, service-managed: moto's ListStackInstances gives no
# OrganizationalUnitId, and its DeleteStackInstances ignores
# DeploymentTargets (the only way to name the instances of a
# service-managed set), so the set could never be emptied. Each instance
# made through an organizational unit records it, and a delete by units
# deletes their accounts' instances.
from moto.cloudformation import models as _cfn_models
from moto.cloudformation.responses import CloudFormationResponse

_create_instances = _cfn_models.StackInstances.create_instances


def create_instances(self, accounts, regions, parameters, deployment_targets, permission_model):
    made = _create_instances(self, accounts, regions, parameters, deployment_targets, permission_model)
    parents = {a.id: a.parent_id for a in self.org_backend.accounts}
    for inst in self.stack_instances:
        if not getattr(inst, "ou", None) and inst.account_id not in accounts:
            inst.ou = parents.get(inst.account_id)
    for d in made:
        d["OrganizationalUnitId"] = parents.get(d["Account"]) if d["Account"] not in accounts else None
    return made


_instance_dict = _cfn_models.StackInstance.to_dict


def instance_dict(self):
    d = _instance_dict(self)
    if getattr(self, "ou", None):
        d["OrganizationalUnitId"] = self.ou
    return d


_delete_instances = CloudFormationResponse.delete_stack_instances


def delete_stack_instances(self):
    targets = (self._get_params().get("DeploymentTargets") or {}).get("OrganizationalUnitIds") or []
    if targets and not self._get_param("Accounts"):
        stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
        regions = self._get_param("Regions", [])
        accounts = sorted({i.account_id for i in stackset.stack_instances if getattr(i, "ou", None) in targets})
        op = self.cloudformation_backend.delete_stack_instances(stackset.name, accounts, regions)
        return ActionResult({"OperationId": op.operations[-1]["OperationId"]})
    return _delete_instances(self)


_cfn_models.StackInstances.create_instances = create_instances
_cfn_models.StackInstance.to_dict = instance_dict
CloudFormationResponse.delete_stack_instances = delete_stack_instances


# Restore drills. moto's CreateVolume ignores ClientToken, every volume is
# "available" at once and every snapshot "completed". EC2 answers a repeat
# of a ClientToken with the volume that token made; a volume can stay
# "creating" or go to "error", a snapshot can fail ("error"). Here a volume
# restored from a snapshot tagged ebs-snapper-test:volume-state=<state>
# reports that state for ever, and a snapshot tagged
# ebs-snapper-test:snapshot-state=<state> reports that state (tests stage
# a volume that never becomes available and a failed snapshot this way).
from moto.ec2.models.elastic_block_store import Snapshot as _Snapshot
from moto.ec2.models.elastic_block_store import Volume as _Volume

_HOLD_TAG = "ebs-snapper-test:volume-state"
_create_volume = EC2Response.create_volume
_volume_status = _Volume.status


def _volume_tokens(backend):
    if not hasattr(backend, "volume_tokens"):
        backend.volume_tokens = {}
    return backend.volume_tokens


def create_volume(self):
    token = self._get_param("ClientToken")
    tokens = _volume_tokens(self.ec2_backend)
    if token and tokens.get(token) in self.ec2_backend.volumes:
        return ActionResult(self.ec2_backend.volumes[tokens[token]])
    result = _create_volume(self)
    if token:
        tokens[token] = result.result.id
    return result


def volume_status(self):
    if self.snapshot_id and not self.attachment:
        held = self.ec2_backend.tags.get(self.snapshot_id, {}).get(_HOLD_TAG)
        if held:
            return held
    return _volume_status.fget(self)


EC2Response.create_volume = create_volume
_Volume.status = property(volume_status)


def _snapshot_status_get(self):
    held = self.ec2_backend.tags.get(self.id, {}).get("ebs-snapper-test:snapshot-state")
    return held or self._status


def _snapshot_status_set(self, value):
    self._status = value


_Snapshot.status = property(_snapshot_status_get, _snapshot_status_set)
