package ebs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

func TestErrorHelpers(t *testing.T) {
	helpers := []struct {
		name string
		is   func(error) bool
	}{
		{"IsNotFound", ebs.IsNotFound},
		{"IsThrottle", ebs.IsThrottle},
		{"IsSnapshotRateLimit", ebs.IsSnapshotRateLimit},
		{"IsRegionUnavailable", ebs.IsRegionUnavailable},
	}
	for _, tc := range []struct {
		code string
		want string // the one helper that must say yes, or ""
	}{
		{"InvalidSnapshot.NotFound", "IsNotFound"},
		{"InvalidVolume.NotFound", "IsNotFound"},
		{"InvalidInstanceID.NotFound", "IsNotFound"},
		{"InvalidAMIID.NotFound", "IsNotFound"},
		{"RequestLimitExceeded", "IsThrottle"},
		{"Throttling", "IsThrottle"},
		{"ThrottlingException", "IsThrottle"},
		{"SnapshotCreationPerVolumeRateExceeded", "IsSnapshotRateLimit"},
		{"ConcurrentSnapshotLimitExceeded", "IsSnapshotRateLimit"},
		{"AuthFailure", "IsRegionUnavailable"},
		{"OptInRequired", "IsRegionUnavailable"},
		{"UnauthorizedOperation", ""},
		{"InvalidSnapshot.InUse", ""},
		{"InternalError", ""},
	} {
		apiErr := &smithy.GenericAPIError{Code: tc.code}
		for _, err := range []error{
			apiErr,
			&smithy.OperationError{ServiceID: "EC2", OperationName: "X", Err: apiErr},
			fmt.Errorf("describe snapshots in eu-west-1: %w", apiErr),
		} {
			for _, h := range helpers {
				if got, want := h.is(err), h.name == tc.want; got != want {
					t.Errorf("%s(%v) = %v, want %v", h.name, err, got, want)
				}
			}
		}
	}
	for _, h := range helpers {
		for _, err := range []error{nil, errors.New("RequestLimitExceeded in a plain error")} {
			if h.is(err) {
				t.Errorf("%s(%v) = true, want false", h.name, err)
			}
		}
	}
	if !ebs.IsNotFound(fmt.Errorf("x: %w", ebs.ErrNotFound)) {
		t.Error("IsNotFound(wrapped ErrNotFound) = false")
	}
}

// Issue 10, item 3: EC2 refusing a stanza's filter is the stanza's fault
// (inventory.ErrFilterRejected); a throttle or any other error is not.
func TestInstancesMarksRejectedFilters(t *testing.T) {
	f := &ec2fake.Fake{}
	f.AddInstance(inventory.Instance{ID: "i-1", VolumeIDs: []string{"vol-1"}})
	c := ebs.New(f, "us-east-1")
	_, err := c.Instances(t.Context(), []inventory.Filter{{Name: "tags:env", Values: []string{"prod"}}})
	if !errors.Is(err, inventory.ErrFilterRejected) || !strings.Contains(err.Error(), "tags:env") {
		t.Errorf("unknown filter name: err = %v, want ErrFilterRejected naming the filter", err)
	}
	f.Fail(ec2fake.OpDescribeInstances, 10, &smithy.GenericAPIError{Code: ebs.CodeRequestLimitExceeded})
	_, err = c.Instances(t.Context(), nil)
	if err == nil || errors.Is(err, inventory.ErrFilterRejected) {
		t.Errorf("throttled listing: err = %v, want an error that is not ErrFilterRejected", err)
	}
}
