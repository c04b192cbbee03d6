package config

import (
	"slices"
	"strconv"
	"strings"
)

// ec2InstanceFilters are the filter names EC2 DescribeInstances accepts
// besides tag:<key>, from the Amazon EC2 API Reference, DescribeInstances,
// Filter.N (as listed in aws-sdk-go-v2/service/ec2 v1.344.3), plus three
// that earlier versions of that page listed and stanzas written then may
// still use: group-id, group-name and tag-value. EC2 rejects any other name
// for the whole call ("InvalidParameterValue: The filter 'x' is invalid").
// instance-state-name and instance-state-code are left out on purpose:
// see stateFilters.
var ec2InstanceFilters = []string{
	"affinity", "architecture", "availability-zone", "availability-zone-id",
	"block-device-mapping.attach-time", "block-device-mapping.delete-on-termination",
	"block-device-mapping.device-name", "block-device-mapping.status",
	"block-device-mapping.volume-id", "boot-mode", "capacity-reservation-id",
	"capacity-reservation-specification.capacity-reservation-preference",
	"capacity-reservation-specification.capacity-reservation-target.capacity-reservation-id",
	"capacity-reservation-specification.capacity-reservation-target.capacity-reservation-resource-group-arn",
	"client-token", "current-instance-boot-mode", "dns-name", "ebs-optimized", "ena-support",
	"enclave-options.enabled", "group-id", "group-name", "hibernation-options.configured", "host-id",
	"hypervisor", "iam-instance-profile.arn", "iam-instance-profile.id", "image-id", "instance-id",
	"instance-lifecycle", "instance-type", "instance.group-id", "instance.group-name", "ip-address",
	"ipv6-address", "kernel-id", "key-name", "launch-index", "launch-time",
	"maintenance-options.auto-recovery", "metadata-options.http-endpoint",
	"metadata-options.http-protocol-ipv4", "metadata-options.http-protocol-ipv6",
	"metadata-options.http-put-response-hop-limit", "metadata-options.http-tokens",
	"metadata-options.instance-metadata-tags", "metadata-options.state", "monitoring-state",
	"network-interface.addresses.association.allocation-id",
	"network-interface.addresses.association.association-id",
	"network-interface.addresses.association.carrier-ip",
	"network-interface.addresses.association.customer-owned-ip",
	"network-interface.addresses.association.ip-owner-id",
	"network-interface.addresses.association.public-dns-name",
	"network-interface.addresses.association.public-ip", "network-interface.addresses.primary",
	"network-interface.addresses.private-dns-name", "network-interface.addresses.private-ip-address",
	"network-interface.association.allocation-id", "network-interface.association.association-id",
	"network-interface.association.carrier-ip", "network-interface.association.customer-owned-ip",
	"network-interface.association.ip-owner-id", "network-interface.association.public-dns-name",
	"network-interface.association.public-ip", "network-interface.attachment.attach-time",
	"network-interface.attachment.attachment-id",
	"network-interface.attachment.delete-on-termination", "network-interface.attachment.device-index",
	"network-interface.attachment.instance-id", "network-interface.attachment.instance-owner-id",
	"network-interface.attachment.network-card-index", "network-interface.attachment.status",
	"network-interface.availability-zone", "network-interface.deny-all-igw-traffic",
	"network-interface.description", "network-interface.group-id", "network-interface.group-name",
	"network-interface.ipv4-prefixes.ipv4-prefix", "network-interface.ipv6-address",
	"network-interface.ipv6-addresses.ipv6-address",
	"network-interface.ipv6-addresses.is-primary-ipv6", "network-interface.ipv6-native",
	"network-interface.ipv6-prefixes.ipv6-prefix", "network-interface.mac-address",
	"network-interface.network-interface-id", "network-interface.operator.managed",
	"network-interface.operator.principal", "network-interface.outpost-arn",
	"network-interface.owner-id", "network-interface.private-dns-name",
	"network-interface.private-ip-address", "network-interface.public-dns-name",
	"network-interface.requester-id", "network-interface.requester-managed",
	"network-interface.source-dest-check", "network-interface.status", "network-interface.subnet-id",
	"network-interface.tag-key", "network-interface.tag-value", "network-interface.vpc-id",
	"network-performance-options.bandwidth-weighting", "operator.managed", "operator.principal",
	"outpost-arn", "owner-id", "placement-group-name", "placement-partition-number", "platform",
	"platform-details", "private-dns-name",
	"private-dns-name-options.enable-resource-name-dns-a-record",
	"private-dns-name-options.enable-resource-name-dns-aaaa-record",
	"private-dns-name-options.hostname-type", "private-ip-address", "product-code",
	"product-code.type", "ramdisk-id", "reason", "requester-id", "reservation-id", "root-device-name",
	"root-device-type", "source-dest-check", "spot-instance-request-id", "state-reason-code",
	"state-reason-message", "subnet-id", "tag-key", "tag-value", "tenancy", "tpm-support",
	"usage-operation", "usage-operation-update-time", "virtualization-type", "vpc-id",
}

// stateFilters select instances by state, which ebs-snapper does itself:
// a stanza's own state filter would fight that (say, hide a stopped
// instance's volumes from their stanza, so that clean takes them for
// orphans).
var stateFilters = []string{"instance-state-code", "instance-state-name"}

// filterNameProblem says what is wrong with a match key, or "" when EC2
// DescribeInstances accepts it as a filter name.
func filterNameProblem(name string) string {
	if key, ok := strings.CutPrefix(name, "tag:"); ok {
		if key == "" {
			return `names no tag key: write tag:<key>, e.g. "tag:backup"`
		}
		return ""
	}
	if _, found := slices.BinarySearch(ec2InstanceFilters, name); found {
		return ""
	}
	if slices.Contains(stateFilters, name) {
		return "ebs-snapper selects instances by state itself (every instance that is not terminated keeps its stanza's protection); a state filter here would fight that: remove it"
	}
	msg := "is not an EC2 DescribeInstances filter name (EC2 rejects the whole listing: \"The filter '" + name + "' is invalid\")"
	if s := suggestFilter(name); s != "" {
		msg += "; did you mean " + strconv.Quote(s) + "?"
	} else {
		msg += "; use tag:<key> or a name from the DescribeInstances filter list, e.g. instance-id, instance-type, vpc-id"
	}
	return msg
}

// suggestFilter guesses the filter name meant by an unknown one: a known
// name in another case ("Instance-Type"), or a misspelt tag prefix
// ("tags:env", "Tag:env", "tag-env", "tag.env" for tag:env).
func suggestFilter(name string) string {
	lower := strings.ToLower(name)
	if _, found := slices.BinarySearch(ec2InstanceFilters, lower); found {
		return lower
	}
	for _, prefix := range []string{"tag:", "tags:", "tag=", "tag-", "tag."} {
		if key, ok := strings.CutPrefix(lower, prefix); ok && key != "" {
			return "tag:" + name[len(prefix):]
		}
	}
	return ""
}
