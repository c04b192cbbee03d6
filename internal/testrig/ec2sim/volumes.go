package ec2sim

import (
	"context"
	"encoding/xml"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// DescribeVolumes, as the EC2 API Reference's example writes it, with the
// Fake's size and type (it models no zone).

type describeVolumesXML struct {
	XMLName xml.Name `xml:"DescribeVolumesResponse"`
	head
	Volumes   []volumeXML `xml:"volumeSet>item"`
	NextToken string      `xml:"nextToken,omitempty"`
}

type volumeXML struct {
	VolumeID   string   `xml:"volumeId"`
	Size       int32    `xml:"size"`
	Status     string   `xml:"status"`
	VolumeType string   `xml:"volumeType"`
	Tags       []tagXML `xml:"tagSet>item"`
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
		doc.Volumes = append(doc.Volumes, volumeXML{
			VolumeID: aws.ToString(v.VolumeId), Size: aws.ToInt32(v.Size), Status: string(v.State), VolumeType: string(v.VolumeType), Tags: tagsXML(v.Tags),
		})
	}
	return doc, nil
}
