package ebs_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
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
