package ebs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
)

// ec2Backend answers CreateSnapshot and DeleteSnapshot as EC2 does and
// counts the requests that reached it (each one an action EC2 took).
type ec2Backend struct {
	mu  sync.Mutex
	got map[string]int
}

func newEC2Backend(t *testing.T) (*ec2Backend, string) {
	b := &ec2Backend{got: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		action := r.PostForm.Get("Action")
		b.mu.Lock()
		b.got[action]++
		n := b.got[action]
		b.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		switch action {
		case "CreateSnapshot":
			fmt.Fprintf(w, `<CreateSnapshotResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><snapshotId>snap-%017d</snapshotId><volumeId>%s</volumeId><status>pending</status></CreateSnapshotResponse>`, n, r.PostForm.Get("VolumeId"))
		default:
			fmt.Fprintf(w, `<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><return>true</return></%sResponse>`, action, action)
		}
	}))
	t.Cleanup(srv.Close)
	return b, srv.URL
}

func (b *ec2Backend) count(action string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.got[action]
}

// sdkClient is the adapter over the real SDK pointed at endpoint, with the
// project's kind of retryer (standard, several attempts, no retry quota)
// minus the waits.
func sdkClient(endpoint string) *ebs.Client {
	cfg := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "a", SecretAccessKey: "b"}, nil
		}),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = 5
				so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
				so.RateLimiter = ratelimit.None
			})
		},
	}
	return ebs.NewForRegion(cfg, "us-east-1", ec2fake.Unpaced())
}

// CreateSnapshot has no idempotency token: the SDK must retry it only when
// EC2 provably did not act, and report an unknown outcome otherwise.
func TestCreateSnapshotRetriesOnlyWhatEC2DidNotDo(t *testing.T) {
	for _, tc := range []struct {
		fault       faults.Fault
		wantErr     error // nil: the create succeeds
		wantActions int   // creates that reached EC2
	}{
		{fault: faults.Throttle, wantActions: 1},
		{fault: faults.Reject, wantErr: ebs.ErrNotFound, wantActions: 0},
		{fault: faults.DropAfter, wantErr: inventory.ErrOutcomeUnknown, wantActions: 1},
		{fault: faults.ResetBefore, wantErr: inventory.ErrOutcomeUnknown, wantActions: 0},
		{fault: faults.ServerError, wantErr: inventory.ErrOutcomeUnknown, wantActions: 0},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			b, target := newEC2Backend(t)
			p := faults.NewProxy(t, target, faults.ProxyOptions{Rules: []faults.Rule{{
				Action: "CreateSnapshot", Fault: tc.fault, First: 1,
				Code: ebs.CodeVolumeNotFound, Message: "The volume 'vol-1' does not exist.",
			}}})
			snap, err := sdkClient(p.URL).CreateSnapshot(t.Context(), "vol-1", "d", deleteOn)
			switch {
			case tc.wantErr == nil && (err != nil || snap.ID == ""):
				t.Errorf("got %+v, %v; want the snapshot after a retry", snap, err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("got %v, want an error matching %v", err, tc.wantErr)
			}
			if got := b.count("CreateSnapshot"); got != tc.wantActions {
				t.Errorf("EC2 took %d creates, want %d (a retry after the request reached EC2 makes a duplicate)", got, tc.wantActions)
			}
		})
	}
}

// A refused connection proves the request never left: a known failure,
// not an unknown outcome.
func TestCreateSnapshotRefusedConnectionIsKnown(t *testing.T) {
	// Nothing listens on a closed server's port.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err := sdkClient(closed.URL).CreateSnapshot(t.Context(), "vol-1", "d", deleteOn)
	if err == nil || errors.Is(err, inventory.ErrOutcomeUnknown) {
		t.Errorf("got %v; want a known failure (connection refused: nothing was sent)", err)
	}
}

// Deleting is idempotent: the SDK retries after a lost answer, and the
// retry's NotFound is success.
func TestDeleteSnapshotIsRetriedAfterALostAnswer(t *testing.T) {
	b, target := newEC2Backend(t)
	p := faults.NewProxy(t, target, faults.ProxyOptions{Rules: []faults.Rule{{Action: "DeleteSnapshot", Fault: faults.DropAfter, First: 1}}})
	if err := sdkClient(p.URL).DeleteSnapshot(t.Context(), "snap-1"); err != nil {
		t.Errorf("got %v, want the retried delete to succeed", err)
	}
	if got := b.count("DeleteSnapshot"); got != 2 {
		t.Errorf("EC2 got %d deletes, want 2 (the lost one and its retry)", got)
	}
}

// CopySnapshot has no idempotency token either: a lost answer is not
// retried (it would make a second replica) and reports an unknown outcome.
func TestCopySnapshotRetriesOnlyWhatEC2DidNotDo(t *testing.T) {
	for _, tc := range []struct {
		fault       faults.Fault
		wantErr     error // nil: the copy succeeds
		wantActions int   // copies that reached EC2
	}{
		{fault: faults.Throttle, wantActions: 1},
		{fault: faults.DropAfter, wantErr: inventory.ErrOutcomeUnknown, wantActions: 1},
		{fault: faults.ServerError, wantErr: inventory.ErrOutcomeUnknown, wantActions: 0},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			b, target := newEC2Backend(t)
			p := faults.NewProxy(t, target, faults.ProxyOptions{Rules: []faults.Rule{{Action: "CopySnapshot", Fault: tc.fault, First: 1}}})
			_, err := sdkClient(p.URL).CopySnapshot(t.Context(), "us-west-2", "snap-1", "d", "", deleteOn)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("got %v; want the copy after a retry", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("got %v, want an error matching %v", err, tc.wantErr)
			}
			if got := b.count("CopySnapshot"); got != tc.wantActions {
				t.Errorf("EC2 took %d copies, want %d (a retry after the request reached EC2 makes a second replica)", got, tc.wantActions)
			}
		})
	}
}
