package ec2sim

import (
	"context"
	"encoding/xml"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// DescribeSnapshots, CreateSnapshot, CreateSnapshots, DeleteSnapshot and
// CopySnapshot, as the EC2 API Reference's examples write them.

// snapshotXML is a Snapshot (DescribeSnapshots' snapshotSet items, and
// CreateSnapshot's response body), with the Fake's size, encryption and
// storage tier.
type snapshotXML struct {
	SnapshotID  string   `xml:"snapshotId"`
	VolumeID    string   `xml:"volumeId"`
	Status      string   `xml:"status"`
	StartTime   string   `xml:"startTime"`
	Progress    string   `xml:"progress"`
	OwnerID     string   `xml:"ownerId"`
	VolumeSize  int32    `xml:"volumeSize"`
	Description string   `xml:"description"`
	Encrypted   bool     `xml:"encrypted"`
	KmsKeyID    string   `xml:"kmsKeyId,omitempty"`
	StorageTier string   `xml:"storageTier,omitempty"`
	Tags        []tagXML `xml:"tagSet>item"`
}

func snapshotOf(s ec2types.Snapshot) snapshotXML {
	return snapshotXML{
		SnapshotID:  aws.ToString(s.SnapshotId),
		VolumeID:    aws.ToString(s.VolumeId),
		Status:      string(s.State),
		StartTime:   timeXML(s.StartTime),
		Progress:    progress(s.State),
		OwnerID:     aws.ToString(s.OwnerId),
		VolumeSize:  aws.ToInt32(s.VolumeSize),
		Description: aws.ToString(s.Description),
		Encrypted:   aws.ToBool(s.Encrypted),
		KmsKeyID:    aws.ToString(s.KmsKeyId),
		StorageTier: string(s.StorageTier),
		Tags:        tagsXML(s.Tags),
	}
}

func progress(state ec2types.SnapshotState) string {
	if state == ec2types.SnapshotStateCompleted {
		return "100%"
	}
	return "0%"
}

type describeSnapshotsXML struct {
	XMLName xml.Name `xml:"DescribeSnapshotsResponse"`
	head
	Snapshots []snapshotXML `xml:"snapshotSet>item"`
	NextToken string        `xml:"nextToken,omitempty"`
}

func describeSnapshots(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	maxResults, token, err := page(form)
	if err != nil {
		return nil, err
	}
	out, err := f.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{
		Filters: filters(form), OwnerIds: list(form, "Owner"), SnapshotIds: list(form, "SnapshotId"),
		RestorableByUserIds: list(form, "RestorableBy"), MaxResults: maxResults, NextToken: token,
	})
	if err != nil {
		return nil, err
	}
	doc := &describeSnapshotsXML{NextToken: aws.ToString(out.NextToken)}
	for _, s := range out.Snapshots {
		doc.Snapshots = append(doc.Snapshots, snapshotOf(s))
	}
	return doc, nil
}

type createSnapshotXML struct {
	XMLName xml.Name `xml:"CreateSnapshotResponse"`
	head
	snapshotXML
}

func createSnapshot(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	dryRun, err := boolean(form, "DryRun")
	if err != nil {
		return nil, err
	}
	out, err := f.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId: str(form, "VolumeId"), Description: str(form, "Description"), TagSpecifications: tagSpecs(form), DryRun: dryRun,
	})
	if err != nil {
		return nil, err
	}
	return &createSnapshotXML{snapshotXML: snapshotOf(ec2types.Snapshot{
		SnapshotId: out.SnapshotId, VolumeId: out.VolumeId, State: out.State, StartTime: out.StartTime,
		OwnerId: out.OwnerId, Description: out.Description, Tags: out.Tags,
	})}, nil
}

type createSnapshotsXML struct {
	XMLName xml.Name `xml:"CreateSnapshotsResponse"`
	head
	Snapshots []snapshotInfoXML `xml:"snapshotSet>item"`
}

// snapshotInfoXML is a SnapshotInfo: a Snapshot whose state is "state",
// not "status".
type snapshotInfoXML struct {
	SnapshotID  string   `xml:"snapshotId"`
	VolumeID    string   `xml:"volumeId"`
	State       string   `xml:"state"`
	StartTime   string   `xml:"startTime"`
	Progress    string   `xml:"progress"`
	OwnerID     string   `xml:"ownerId"`
	VolumeSize  int32    `xml:"volumeSize"`
	Description string   `xml:"description"`
	Encrypted   bool     `xml:"encrypted"`
	Tags        []tagXML `xml:"tagSet>item"`
}

func createSnapshots(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	dryRun, err := boolean(form, "DryRun")
	if err != nil {
		return nil, err
	}
	excludeBoot, err := boolean(form, "InstanceSpecification.ExcludeBootVolume")
	if err != nil {
		return nil, err
	}
	in := &ec2.CreateSnapshotsInput{
		Description:        str(form, "Description"),
		TagSpecifications:  tagSpecs(form),
		CopyTagsFromSource: ec2types.CopyTagsFromSource(form.Get("CopyTagsFromSource")),
		DryRun:             dryRun,
	}
	if id := str(form, "InstanceSpecification.InstanceId"); id != nil {
		in.InstanceSpecification = &ec2types.InstanceSpecification{
			InstanceId: id, ExcludeBootVolume: excludeBoot, ExcludeDataVolumeIds: list(form, "InstanceSpecification.ExcludeDataVolumeId"),
		}
	}
	out, err := f.CreateSnapshots(ctx, in)
	if err != nil {
		return nil, err
	}
	doc := &createSnapshotsXML{}
	for _, s := range out.Snapshots {
		doc.Snapshots = append(doc.Snapshots, snapshotInfoXML{
			SnapshotID: aws.ToString(s.SnapshotId), VolumeID: aws.ToString(s.VolumeId), State: string(s.State),
			StartTime: timeXML(s.StartTime), Progress: progress(s.State), OwnerID: aws.ToString(s.OwnerId), VolumeSize: aws.ToInt32(s.VolumeSize),
			Description: aws.ToString(s.Description), Tags: tagsXML(s.Tags),
		})
	}
	return doc, nil
}

type deleteSnapshotXML struct {
	XMLName xml.Name `xml:"DeleteSnapshotResponse"`
	head
	Return bool `xml:"return"`
}

func deleteSnapshot(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	dryRun, err := boolean(form, "DryRun")
	if err != nil {
		return nil, err
	}
	if _, err := f.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: str(form, "SnapshotId"), DryRun: dryRun}); err != nil {
		return nil, err
	}
	return &deleteSnapshotXML{Return: true}, nil
}

type copySnapshotXML struct {
	XMLName xml.Name `xml:"CopySnapshotResponse"`
	head
	SnapshotID string   `xml:"snapshotId"`
	Tags       []tagXML `xml:"tagSet>item"`
}

func copySnapshot(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	dryRun, err := boolean(form, "DryRun")
	if err != nil {
		return nil, err
	}
	encrypted, err := boolean(form, "Encrypted")
	if err != nil {
		return nil, err
	}
	out, err := f.CopySnapshot(ctx, &ec2.CopySnapshotInput{
		SourceRegion: str(form, "SourceRegion"), SourceSnapshotId: str(form, "SourceSnapshotId"),
		Description: str(form, "Description"), TagSpecifications: tagSpecs(form), DryRun: dryRun,
		Encrypted: encrypted, KmsKeyId: str(form, "KmsKeyId"),
	})
	if err != nil {
		return nil, err
	}
	return &copySnapshotXML{SnapshotID: aws.ToString(out.SnapshotId), Tags: tagsXML(out.Tags)}, nil
}
