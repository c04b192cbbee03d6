package ec2sim

import (
	"context"
	"encoding/xml"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// DescribeVolumes, CreateVolume, DeleteVolume, CreateTags and
// DescribeAvailabilityZones, as the EC2 API Reference's examples write
// them, over the Fake.

type describeVolumesXML struct {
	XMLName xml.Name `xml:"DescribeVolumesResponse"`
	head
	Volumes   []volumeXML `xml:"volumeSet>item"`
	NextToken string      `xml:"nextToken,omitempty"`
}

type volumeXML struct {
	VolumeID         string          `xml:"volumeId"`
	Size             int32           `xml:"size"`
	SnapshotID       string          `xml:"snapshotId,omitempty"`
	AvailabilityZone string          `xml:"availabilityZone,omitempty"`
	Status           string          `xml:"status"`
	CreateTime       string          `xml:"createTime,omitempty"`
	Attachments      []attachmentXML `xml:"attachmentSet>item"`
	VolumeType       string          `xml:"volumeType"`
	Tags             []tagXML        `xml:"tagSet>item"`
}

type attachmentXML struct {
	VolumeID string `xml:"volumeId"`
	Status   string `xml:"status"`
}

func volumeOf(v ec2types.Volume) volumeXML {
	x := volumeXML{
		VolumeID: aws.ToString(v.VolumeId), Size: aws.ToInt32(v.Size), SnapshotID: aws.ToString(v.SnapshotId),
		AvailabilityZone: aws.ToString(v.AvailabilityZone), Status: string(v.State), CreateTime: timeXML(v.CreateTime),
		VolumeType: string(v.VolumeType), Tags: tagsXML(v.Tags),
	}
	for _, a := range v.Attachments {
		x.Attachments = append(x.Attachments, attachmentXML{VolumeID: aws.ToString(a.VolumeId), Status: string(a.State)})
	}
	return x
}

func describeVolumes(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	maxResults, token, err := page(form)
	if err != nil {
		return nil, err
	}
	out, err := f.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{
		Filters: filters(form), VolumeIds: list(form, "VolumeId"), MaxResults: maxResults, NextToken: token,
	})
	if err != nil {
		return nil, err
	}
	doc := &describeVolumesXML{NextToken: aws.ToString(out.NextToken)}
	for _, v := range out.Volumes {
		doc.Volumes = append(doc.Volumes, volumeOf(v))
	}
	return doc, nil
}

type createVolumeXML struct {
	XMLName xml.Name `xml:"CreateVolumeResponse"`
	head
	volumeXML
}

func createVolume(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	enc, err := boolean(form, "Encrypted")
	if err != nil {
		return nil, err
	}
	out, err := f.CreateVolume(ctx, &ec2.CreateVolumeInput{
		SnapshotId: str(form, "SnapshotId"), AvailabilityZone: str(form, "AvailabilityZone"), VolumeType: ec2types.VolumeType(form.Get("VolumeType")),
		Encrypted: enc, ClientToken: str(form, "ClientToken"), TagSpecifications: tagSpecs(form),
	})
	if err != nil {
		return nil, err
	}
	return &createVolumeXML{volumeXML: volumeOf(ec2types.Volume{
		VolumeId: out.VolumeId, Size: out.Size, SnapshotId: out.SnapshotId, AvailabilityZone: out.AvailabilityZone,
		State: out.State, CreateTime: out.CreateTime, VolumeType: out.VolumeType, Tags: out.Tags,
	})}, nil
}

type returnXML struct {
	XMLName xml.Name
	head
	Return bool `xml:"return"`
}

func deleteVolume(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	if _, err := f.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: str(form, "VolumeId")}); err != nil {
		return nil, err
	}
	return &returnXML{XMLName: xml.Name{Local: "DeleteVolumeResponse"}, Return: true}, nil
}

func createTags(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	in := &ec2.CreateTagsInput{Resources: list(form, "ResourceId")}
	for i := 1; ; i++ {
		k := "Tag." + strconv.Itoa(i)
		if _, ok := form[k+".Key"]; !ok {
			break
		}
		in.Tags = append(in.Tags, ec2types.Tag{Key: aws.String(form.Get(k + ".Key")), Value: aws.String(form.Get(k + ".Value"))})
	}
	if _, err := f.CreateTags(ctx, in); err != nil {
		return nil, err
	}
	return &returnXML{XMLName: xml.Name{Local: "CreateTagsResponse"}, Return: true}, nil
}

type describeZonesXML struct {
	XMLName xml.Name `xml:"DescribeAvailabilityZonesResponse"`
	head
	Zones []zoneXML `xml:"availabilityZoneInfo>item"`
}

type zoneXML struct {
	ZoneName   string `xml:"zoneName"`
	ZoneState  string `xml:"zoneState"`
	RegionName string `xml:"regionName"`
	ZoneType   string `xml:"zoneType"`
}

func describeAvailabilityZones(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	out, err := f.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{Filters: filters(form)})
	if err != nil {
		return nil, err
	}
	doc := &describeZonesXML{}
	for _, z := range out.AvailabilityZones {
		doc.Zones = append(doc.Zones, zoneXML{ZoneName: aws.ToString(z.ZoneName), ZoneState: string(z.State), RegionName: aws.ToString(z.RegionName), ZoneType: aws.ToString(z.ZoneType)})
	}
	return doc, nil
}
