// Command seedfleet fills a local AWS emulator with the demo fleet: the
// configuration table, instances tagged backup=yes with two volumes each,
// an untagged instance, and older snapshots whose DeleteOn dates lie in the
// past and in the future. It refuses to run unless AWS_ENDPOINT_URL points
// at this machine, so it can never touch a real account.
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/cli"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "seedfleet:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	u, err := url.Parse(os.Getenv("AWS_ENDPOINT_URL"))
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return fmt.Errorf("AWS_ENDPOINT_URL must point at a local emulator (127.0.0.1), got %q", os.Getenv("AWS_ENDPOINT_URL"))
	}
	cfg, err := awsclient.Load(ctx, "us-east-1", nil)
	if err != nil {
		return err
	}
	if err := configstore.NewDynamo(dynamodb.NewFromConfig(cfg), cli.DefaultTable).CreateTable(ctx); err != nil {
		return err
	}
	api := ec2.NewFromConfig(cfg)
	web, err := seeder.Launch(ctx, api, seeder.Group{
		Count: 3, Volumes: 2,
		Tags:       []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "web"}, {Key: "CostCenter", Value: "shop"}},
		VolumeTags: []inventory.Tag{{Key: "Service", Value: "storefront"}},
	})
	if err != nil {
		return err
	}
	if _, err := seeder.Launch(ctx, api, seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "Name", Value: "scratch"}}}); err != nil {
		return err
	}
	today := time.Now().UTC()
	date := func(days int) inventory.Tag {
		return inventory.Tag{Key: "DeleteOn", Value: today.AddDate(0, 0, days).Format(time.DateOnly)}
	}
	// seed snapshots vol as if taken retention (the demo stanza's 4 days)
	// before each DeleteOn date: clean deletes no snapshot younger than its
	// retention, and moto stamps StartTime with its clock, which only its
	// staging endpoint (internal/testrig/motoserver/stage.py) changes.
	moto := &motoserver.Server{URL: u.String()}
	seed := func(vol string, days ...int) error {
		for _, d := range days {
			id, err := seeder.Snapshot(ctx, api, vol, date(d))
			if err != nil {
				return err
			}
			start := today.Truncate(24*time.Hour).AddDate(0, 0, d-4)
			if err := moto.StageSnapshot("us-east-1", id, motoserver.SnapshotStage{StartTime: start}); err != nil {
				return fmt.Errorf("%w (is moto running with internal/testrig/motoserver/stage.py?)", err)
			}
		}
		return nil
	}
	// web-1's data volume: seven older snapshots, five of them expired:
	// clean deletes down to the minimum of 5 and never the newest.
	if err := seed(web[0].VolumeIDs[1], -30, -12, -6, -2, -1, 3, 4); err != nil {
		return err
	}
	// web-2's root volume: two snapshots that are not due yet.
	if err := seed(web[1].VolumeIDs[0], 2, 4); err != nil {
		return err
	}
	// A volume that is gone: its expired snapshots have no known minimum,
	// so clean keeps them (unless a stanza sets ignore_retention).
	orphan, err := seeder.Launch(ctx, api, seeder.Group{Count: 1})
	if err != nil {
		return err
	}
	if err := seed(orphan[0].VolumeIDs[0], -20, -10); err != nil {
		return err
	}
	if err := seeder.Terminate(ctx, api, orphan[0].ID); err != nil {
		return err
	}
	fmt.Printf("seeded us-east-1: 3 instances tagged backup=yes (2 volumes each), 1 untagged instance, 9 older snapshots, 2 orphaned ones\n")
	return nil
}
