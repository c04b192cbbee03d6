package seeder_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestMain(m *testing.M) { os.Exit(motoserver.RunTests(m)) }

// TestImageSettlesALostAnswer: CreateImage takes no client token, so a
// retry after an answer lost on the way back would register a second AMI
// and a second backing snapshot. Image sends each attempt once and looks
// the AMI up by name after a failed one: moto, whose first CreateImage
// answer the proxy drops after it acted, ends up with one AMI, the one
// Image returns.
func TestImageSettlesALostAnswer(t *testing.T) {
	srv := motoserver.Require(t)
	direct := ec2.NewFromConfig(srv.Config(t))
	insts, err := seeder.Launch(t.Context(), direct, seeder.Group{Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := faults.NewProxy(t, srv.URL, faults.ProxyOptions{Rules: []faults.Rule{
		{Action: "CreateImage", Fault: faults.DropAfter, First: 1},
	}})
	cfg, err := awsclient.Load(t.Context(), "us-east-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(p.URL)
	ami, snap, err := seeder.Image(t.Context(), ec2.NewFromConfig(cfg), insts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Counts()["CreateImage"]; c.Faults[faults.DropAfter] != 1 {
		t.Fatalf("proxy counted CreateImage %+v, want its first answer dropped", c)
	}
	out, err := direct.DescribeImages(t.Context(), &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId) != ami {
		t.Errorf("moto holds %d AMIs of our own, want only %s", len(out.Images), ami)
	}
	if snap == "" {
		t.Errorf("Image returned no backing snapshot for %s", ami)
	}
}
