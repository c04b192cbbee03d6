package ec2sim

import (
	"context"
	"encoding/xml"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// DescribeImages, as the EC2 API Reference's example writes it.

type describeImagesXML struct {
	XMLName xml.Name `xml:"DescribeImagesResponse"`
	head
	Images    []imageXML `xml:"imagesSet>item"`
	NextToken string     `xml:"nextToken,omitempty"`
}

type imageXML struct {
	ImageID      string        `xml:"imageId"`
	State        string        `xml:"imageState"`
	OwnerID      string        `xml:"imageOwnerId"`
	BlockDevices []imageBDMXML `xml:"blockDeviceMapping>item"`
}

type imageBDMXML struct {
	DeviceName string `xml:"deviceName"`
	Ebs        struct {
		SnapshotID string `xml:"snapshotId"`
	} `xml:"ebs"`
}

func describeImages(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error) {
	maxResults, token, err := page(form)
	if err != nil {
		return nil, err
	}
	out, err := f.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Filters: filters(form), ImageIds: list(form, "ImageId"), Owners: list(form, "Owner"),
		ExecutableUsers: list(form, "ExecutableBy"), MaxResults: maxResults, NextToken: token,
	})
	if err != nil {
		return nil, err
	}
	doc := &describeImagesXML{NextToken: aws.ToString(out.NextToken)}
	for _, img := range out.Images {
		ix := imageXML{ImageID: aws.ToString(img.ImageId), State: string(img.State), OwnerID: aws.ToString(img.OwnerId)}
		for _, b := range img.BlockDeviceMappings {
			var bx imageBDMXML
			bx.DeviceName = aws.ToString(b.DeviceName)
			if b.Ebs != nil {
				bx.Ebs.SnapshotID = aws.ToString(b.Ebs.SnapshotId)
			}
			ix.BlockDevices = append(ix.BlockDevices, bx)
		}
		doc.Images = append(doc.Images, ix)
	}
	return doc, nil
}
