package handler

import "slices"

// calls is, per handler, every IAM action its code can call: the AWS
// operations of the adapters its path through the engine reaches (an IAM
// action is named like its API operation), plus ec2:CreateTags where EC2
// authorises tagging on create as CreateTags (EC2 User Guide, "Grant
// permission to tag Amazon EC2 resources during creation"). Two tests keep
// it true: the handlers run against moto with every AWS call recorded must
// call nothing outside their list, and the lists together must be exactly
// the actions of the adapters' API interfaces (ebs, configstore's read
// path, lease, SQSAPI, EventsAPI, awsclient.S3API, the Organizations
// listing and the spoke role's AssumeRole), so a new adapter call
// fails until a handler owns it. The template gives each function a role granting its
// list and nothing else (internal/deploy's IAM test).
var calls = map[string][]string{
	// Stanzas, enabled regions, one message per region, the replication
	// rule switched on or off.
	// A hub's fan-out also lists the organisation's accounts in scope
	// (awsclient.OrganizationsAPI).
	FanoutSnapshot: append([]string{"dynamodb:Query", "ec2:DescribeRegions", "events:DescribeRule", "events:DisableRule", "events:EnableRule", "sqs:SendMessage"}, orgList...),
	FanoutClean:    append([]string{"dynamodb:Query", "ec2:DescribeRegions", "sqs:SendMessage"}, orgList...),
	// It also asks each region whether the account owns a snapshot there.
	FanoutReplication: append([]string{"dynamodb:Query", "ec2:DescribeRegions", "ec2:DescribeSnapshots", "sqs:SendMessage"}, orgList...),
	// Inventory, then snapshots tagged in the creating call, locked when a
	// stanza says "lock"; the lease; a continuation on its own queue. No
	// delete. Every worker of a hub assumes the spoke role of a cell in
	// another account (sts:AssumeRole).
	Snapshot: {"dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query",
		"ec2:CreateSnapshot", "ec2:CreateSnapshots", "ec2:CreateTags", "ec2:LockSnapshot",
		"ec2:DescribeInstances", "ec2:DescribeRegions", "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "sqs:SendMessage", "sts:AssumeRole"},
	// Inventory including what protects snapshots (AMIs, locks, launch
	// templates) and the Recycle Bin's rules, then deletes and archives.
	// No create.
	Clean: {"dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query",
		"ec2:DeleteSnapshot", "ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLockedSnapshots",
		"ec2:DescribeRegions", "ec2:DescribeSnapshots", "ec2:DescribeVolumes",
		"ec2:ModifySnapshotTier", "rbin:GetRule", "rbin:ListRules", "sqs:SendMessage", "sts:AssumeRole"},
	// Copies tagged in the copying call, and replicas retired.
	Replication: {"dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query",
		"ec2:CopySnapshot", "ec2:CreateTags", "ec2:DeleteSnapshot",
		"ec2:DescribeInstances", "ec2:DescribeRegions", "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "sqs:SendMessage", "sts:AssumeRole"},
	// The restore drills: the fan-out as clean's; the worker lists the
	// matched volumes, their snapshots and the drill volumes, creates
	// volumes tagged in the creating call, deletes them, and tags the
	// drilled snapshot with the outcome. No snapshot is created or
	// deleted.
	FanoutDrill: append([]string{"dynamodb:Query", "ec2:DescribeRegions", "sqs:SendMessage"}, orgList...),
	Drill: {"dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query",
		"ec2:CreateTags", "ec2:CreateVolume", "ec2:DeleteVolume", "ec2:DescribeAvailabilityZones",
		"ec2:DescribeInstances", "ec2:DescribeRegions", "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "sqs:SendMessage", "sts:AssumeRole"},
	// The stanzas, the report's inventory (the listings snapshot uses, what
	// protects snapshots, the Recycle Bin's rules and the volumes' sizes),
	// and its objects written to the report bucket. No lease: it changes no
	// snapshot.
	Report: {"dynamodb:Query", "ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLockedSnapshots",
		"ec2:DescribeRegions", "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "rbin:GetRule", "rbin:ListRules", "s3:PutObject"},
}

// orgList is what a hub's fan-out calls to list the accounts in scope
// (awsclient.OrganizationsAPI).
var orgList = []string{"organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent", "organizations:ListParents", "organizations:ListRoots"}

// Names returns the handler names, in the order the template declares
// their functions.
func Names() []string { return slices.Clone(names) }

// Calls returns, sorted, the IAM actions the code of the named handler
// can call ("ec2:CreateSnapshot", "sqs:SendMessage", ...): what its function's
// role must grant, and all it may grant. It fails for an unknown name.
func Calls(name string) ([]string, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	out := slices.Clone(calls[name])
	slices.Sort(out)
	return out, nil
}
