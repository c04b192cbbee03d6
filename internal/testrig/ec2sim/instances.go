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

// DescribeInstances and DescribeRegions, as the EC2 API Reference's
// examples write them.

type describeInstancesXML struct {
	XMLName xml.Name `xml:"DescribeInstancesResponse"`
	head
	Reservations []reservationXML `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

type reservationXML struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []instanceXML `xml:"instancesSet>item"`
}

type instanceXML struct {
	InstanceID     string           `xml:"instanceId"`
	ImageID        string           `xml:"imageId"`
	State          instanceStateXML `xml:"instanceState"`
	RootDeviceName string           `xml:"rootDeviceName,omitempty"`
	BlockDevices   []instanceBDMXML `xml:"blockDeviceMapping>item"`
	Tags           []tagXML         `xml:"tagSet>item"`
}

type instanceStateXML struct {
	Code int32  `xml:"code"`
	Name string `xml:"name"`
}

type instanceBDMXML struct {
	DeviceName string `xml:"deviceName"`
	Ebs        struct {
		VolumeID            string `xml:"volumeId"`
		Status              string `xml:"status"`
		DeleteOnTermination bool   `xml:"deleteOnTermination"`
	} `xml:"ebs"`
}

// stateCodes are EC2's instance state codes (EC2 API Reference,
// InstanceState).
var stateCodes = map[ec2types.InstanceStateName]int32{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

func describeInstances(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	maxResults, token, err := page(form)
	if err != nil {
		return nil, err
	}
	out, err := f.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: filters(form), InstanceIds: list(form, "InstanceId"), MaxResults: maxResults, NextToken: token,
	})
	if err != nil {
		return nil, err
	}
	doc := &describeInstancesXML{NextToken: aws.ToString(out.NextToken)}
	for _, r := range out.Reservations {
		rx := reservationXML{ReservationID: aws.ToString(r.ReservationId), OwnerID: aws.ToString(r.OwnerId)}
		for _, i := range r.Instances {
			ix := instanceXML{
				InstanceID:     aws.ToString(i.InstanceId),
				ImageID:        aws.ToString(i.ImageId),
				RootDeviceName: aws.ToString(i.RootDeviceName),
				Tags:           tagsXML(i.Tags),
			}
			if i.State != nil {
				ix.State = instanceStateXML{Code: stateCodes[i.State.Name], Name: string(i.State.Name)}
			}
			for _, b := range i.BlockDeviceMappings {
				var bx instanceBDMXML
				bx.DeviceName = aws.ToString(b.DeviceName)
				if b.Ebs != nil {
					bx.Ebs.VolumeID, bx.Ebs.Status, bx.Ebs.DeleteOnTermination = aws.ToString(b.Ebs.VolumeId), string(b.Ebs.Status), true
				}
				ix.BlockDevices = append(ix.BlockDevices, bx)
			}
			rx.Instances = append(rx.Instances, ix)
		}
		doc.Reservations = append(doc.Reservations, rx)
	}
	return doc, nil
}

type describeRegionsXML struct {
	XMLName xml.Name `xml:"DescribeRegionsResponse"`
	head
	Regions []regionXML `xml:"regionInfo>item"`
}

type regionXML struct {
	RegionName  string `xml:"regionName"`
	Endpoint    string `xml:"regionEndpoint"`
	OptInStatus string `xml:"optInStatus"`
}

func describeRegions(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	all, err := boolean(form, "AllRegions")
	if err != nil {
		return nil, err
	}
	out, err := f.DescribeRegions(ctx, &ec2.DescribeRegionsInput{Filters: filters(form), RegionNames: list(form, "RegionName"), AllRegions: all})
	if err != nil {
		return nil, err
	}
	doc := &describeRegionsXML{}
	for _, r := range out.Regions {
		doc.Regions = append(doc.Regions, regionXML{aws.ToString(r.RegionName), aws.ToString(r.Endpoint), aws.ToString(r.OptInStatus)})
	}
	return doc, nil
}
