package ec2fake_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestMain(m *testing.M) { os.Exit(motoserver.RunTests(m)) }

func TestSuiteFake(t *testing.T) {
	ec2fake.RunSuite(t, func(*testing.T) ec2fake.Target {
		f, peer := &ec2fake.Fake{}, &ec2fake.Fake{}
		ec2fake.Link(map[string]*ec2fake.Fake{"us-east-1": f, ec2fake.PeerRegion: peer})
		return ec2fake.Target{API: f, Seed: f.Seeder(), Peer: peer}
	})
}

func TestSuiteMoto(t *testing.T) {
	motoserver.Require(t)
	ec2fake.RunSuite(t, func(t *testing.T) ec2fake.Target {
		srv, api := moto(t)
		peer := ec2.NewFromConfig(srv.Config(t), func(o *ec2.Options) { o.Region = ec2fake.PeerRegion })
		return ec2fake.Target{API: api, Seed: seeder.SDK(api), Peer: peer, IgnoresMaxResults: true}
	})
}

// moto resets moto, points the process's AWS environment at it and returns
// an SDK client for it, configured as the product configures its own.
func moto(t *testing.T) (*motoserver.Server, *ec2.Client) {
	t.Helper()
	srv := motoserver.Require(t)
	return srv, ec2.NewFromConfig(srv.Config(t))
}
