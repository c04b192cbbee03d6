package lease_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.RunTests(m)) }

// CreateTable creates a lease table as the stack's template declares it
// (hash key lease_key), for tests against moto.
func CreateTable(t *testing.T, ctx context.Context, api *dynamodb.Client, table string) {
	t.Helper()
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(lease.KeyAttribute), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(lease.KeyAttribute), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// runSuite runs the behaviours both stores share, each case on a fresh
// store. atomic says whether the store's conditional writes are atomic
// under concurrent requests: DynamoDB's are (a condition is checked and the
// item written as one operation on the item), Memory's are, moto's server
// is not (it checks and then writes, with no lock, on concurrent request
// threads), so the race is run where it means something.
func runSuite(t *testing.T, atomic bool, newStore func(t *testing.T) lease.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	key := lease.Key("snapshot", "us-west-2")
	first := lease.Lease{Key: key, Holder: "req-a", Chain: "req-a", Expires: now.Add(15 * time.Minute)}
	second := lease.Lease{Key: key, Holder: "req-b", Chain: "req-b", Expires: now.Add(20 * time.Minute)}
	held := func(t *testing.T, err error, holder string) {
		t.Helper()
		var h *lease.HeldError
		if !errors.Is(err, lease.ErrHeld) || !errors.As(err, &h) || h.Holder != holder {
			t.Errorf("got %v, want the lease held by %q", err, holder)
		}
	}

	t.Run("a free lease is taken, a held one is not", func(t *testing.T) {
		s := newStore(t)
		if err := s.Acquire(ctx, first, "", now); err != nil {
			t.Fatal(err)
		}
		err := s.Acquire(ctx, second, "", now.Add(time.Minute))
		held(t, err, "req-a")
		var h *lease.HeldError
		if errors.As(err, &h) && (h.Chain != "req-a" || !h.Expires.Equal(first.Expires)) {
			t.Errorf("held by %+v, want chain req-a until %s", h, first.Expires)
		}
		// Other regions and pipelines are other leases.
		for _, k := range []string{lease.Key("snapshot", "eu-west-1"), lease.Key("clean", "us-west-2")} {
			if err := s.Acquire(ctx, lease.Lease{Key: k, Holder: "req-b", Expires: second.Expires}, "", now); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
	})

	t.Run("an expired lease is taken over", func(t *testing.T) {
		s := newStore(t)
		if err := s.Acquire(ctx, first, "", now); err != nil {
			t.Fatal(err)
		}
		held(t, s.Acquire(ctx, second, "", first.Expires), "req-a")
		if err := s.Acquire(ctx, second, "", first.Expires.Add(time.Second)); err != nil {
			t.Errorf("after expiry: %v", err)
		}
		// The first holder's release no longer touches it.
		held(t, s.Release(ctx, key, "req-a"), "req-b")
	})

	t.Run("the holder hands it over once", func(t *testing.T) {
		s := newStore(t)
		if err := s.Acquire(ctx, first, "", now); err != nil {
			t.Fatal(err)
		}
		next := lease.Lease{Key: key, Holder: "req-c", Chain: "req-a", Expires: now.Add(30 * time.Minute)}
		if err := s.Acquire(ctx, next, "req-a", now.Add(time.Minute)); err != nil {
			t.Fatalf("handover: %v", err)
		}
		// A second delivery of the same continuation finds it taken.
		dup := next
		dup.Holder = "req-d"
		held(t, s.Acquire(ctx, dup, "req-a", now.Add(time.Minute)), "req-c")
		// A holder other than the current one hands nothing over.
		held(t, s.Acquire(ctx, dup, "req-x", now.Add(time.Minute)), "req-c")
	})

	// Issue 16 item 9: Lambda retries an invocation that crashed or timed
	// out with its request id, while the dead invocation's lease lasts
	// until its deadline: the retry takes its own lease back (and may
	// extend it); anyone else, even of the same chain, is turned away.
	t.Run("the same holder takes its own lease back", func(t *testing.T) {
		s := newStore(t)
		if err := s.Acquire(ctx, first, "", now); err != nil {
			t.Fatal(err)
		}
		retry := first
		retry.Expires = now.Add(40 * time.Minute)
		if err := s.Acquire(ctx, retry, "", now.Add(2*time.Minute)); err != nil {
			t.Fatalf("the retry of req-a: %v", err)
		}
		sameChain := lease.Lease{Key: key, Holder: "req-e", Chain: "req-a", Expires: now.Add(40 * time.Minute)}
		held(t, s.Acquire(ctx, sameChain, "", now.Add(20*time.Minute)), "req-a")
		// The retry's expiry counts: still held after the first's.
		held(t, s.Acquire(ctx, second, "", first.Expires.Add(time.Minute)), "req-a")
	})

	t.Run("release frees it for the next holder only when held", func(t *testing.T) {
		s := newStore(t)
		if err := s.Acquire(ctx, first, "", now); err != nil {
			t.Fatal(err)
		}
		held(t, s.Release(ctx, key, "req-b"), "req-a")
		if err := s.Release(ctx, key, "req-a"); err != nil {
			t.Fatal(err)
		}
		if err := s.Release(ctx, key, "req-a"); !errors.Is(err, lease.ErrHeld) {
			t.Errorf("second release: %v, want ErrHeld (gone)", err)
		}
		if err := s.Acquire(ctx, second, "", now); err != nil {
			t.Errorf("after release: %v", err)
		}
	})

	if !atomic {
		return
	}
	t.Run("of many at once exactly one wins", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Go(func() {
				l := lease.Lease{Key: key, Holder: string(rune('a' + i)), Expires: first.Expires}
				results[i] = s.Acquire(ctx, l, "", now)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, lease.ErrHeld):
				t.Errorf("unexpected %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d holders won, want 1: %v", won, results)
		}
	})
}

func TestMemory(t *testing.T) {
	runSuite(t, true, func(*testing.T) lease.Store { return &lease.Memory{} })
}

func TestDynamoOnMoto(t *testing.T) {
	srv := motoserver.Require(t)
	ctx := motoserver.Context(t)
	api := dynamodb.NewFromConfig(srv.Config(t))
	n := 0
	runSuite(t, false, func(t *testing.T) lease.Store {
		n++
		table := "ebs_snapper_lease_" + string(rune('a'+n))
		CreateTable(t, ctx, api, table)
		return lease.NewDynamo(api, table)
	})
}

func TestIAMActions(t *testing.T) {
	if diff := cmp.Diff([]string{"dynamodb:DeleteItem", "dynamodb:PutItem"}, lease.IAMActions()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestExpiryIsStoredRoundedUp(t *testing.T) {
	s := &lease.Memory{}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := lease.Lease{Key: "k", Holder: "a", Expires: now.Add(1500 * time.Millisecond)}
	if err := s.Acquire(context.Background(), l, "", now); err != nil {
		t.Fatal(err)
	}
	// Held at 12:00:02 (the deadline 12:00:01.5 rounds up), free after.
	if err := s.Acquire(context.Background(), lease.Lease{Key: "k", Holder: "b"}, "", now.Add(2*time.Second)); !errors.Is(err, lease.ErrHeld) {
		t.Errorf("at the rounded expiry: %v, want held", err)
	}
	if err := s.Acquire(context.Background(), lease.Lease{Key: "k", Holder: "b"}, "", now.Add(3*time.Second)); err != nil {
		t.Errorf("after it: %v", err)
	}
}

// File, for CLI runs without a lease table: one holder at a time per key
// across File values (two processes share the directory, not the value),
// the holder named to whoever is turned away, free again once released.
func TestFileLocksOnePerKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := &lease.File{Dir: dir}, &lease.File{Dir: dir}
	key := lease.Key("snapshot", "us-west-2")
	mine := lease.Lease{Key: key, Holder: "cli:host:1:tok", Chain: "tok"}
	if err := a.Acquire(ctx, mine, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.Acquire(ctx, mine, "", time.Now()); err != nil {
		t.Errorf("renewal by its holder: %v", err)
	}
	var h *lease.HeldError
	err := b.Acquire(ctx, lease.Lease{Key: key, Holder: "other"}, "", time.Now())
	if !errors.As(err, &h) || h.Holder != "cli:host:1:tok" || h.Chain != "tok" {
		t.Errorf("second holder: %v, want held by cli:host:1:tok (chain tok)", err)
	}
	if err := b.Acquire(ctx, lease.Lease{Key: lease.Key("clean", "us-west-2"), Holder: "other"}, "", time.Now()); err != nil {
		t.Errorf("another key: %v", err)
	}
	if err := b.Release(ctx, key, "other"); !errors.Is(err, lease.ErrHeld) {
		t.Errorf("release of a lock not held: %v", err)
	}
	if err := a.Release(ctx, key, mine.Holder); err != nil {
		t.Fatal(err)
	}
	if err := b.Acquire(ctx, lease.Lease{Key: key, Holder: "other"}, "", time.Now()); err != nil {
		t.Errorf("after release: %v", err)
	}
}
