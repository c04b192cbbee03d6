package ebstest_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs/ebstest"
	"github.com/ebs-snapper/ebs-snapper/internal/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.RunTests(m)) }

func TestSuiteFake(t *testing.T) {
	ebstest.RunSuite(t, func(*testing.T) ebstest.Target {
		f, peer := &ebstest.Fake{}, &ebstest.Fake{}
		ebstest.Link(map[string]*ebstest.Fake{"us-east-1": f, ebstest.PeerRegion: peer})
		return ebstest.Target{API: f, Seed: f.Seeder(), Peer: peer}
	})
}

func TestSuiteMoto(t *testing.T) {
	motoserver.Require(t)
	ebstest.RunSuite(t, func(t *testing.T) ebstest.Target {
		srv, api := moto(t)
		peer := ec2.NewFromConfig(srv.Config(t), func(o *ec2.Options) { o.Region = ebstest.PeerRegion })
		return ebstest.Target{API: api, Seed: ebstest.SDKSeeder(api), Peer: peer, IgnoresMaxResults: true}
	})
}

// moto resets moto, points the process's AWS environment at it and returns
// an SDK client for it, configured as the product configures its own.
func moto(t *testing.T) (*motoserver.Server, *ec2.Client) {
	t.Helper()
	srv := motoserver.Require(t)
	return srv, ec2.NewFromConfig(srv.Config(t))
}
