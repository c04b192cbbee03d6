package awsclient

import (
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
)

func TestRefusalKinds(t *testing.T) {
	wrap := func(code, msg string) error {
		return fmt.Errorf("operation error STS: AssumeRole: %w", &smithy.GenericAPIError{Code: code, Message: msg})
	}
	for _, c := range []struct {
		name              string
		err               error
		refused, byPolicy bool
	}{
		{"missing role", wrap("AccessDenied", "User: arn:aws:sts::111111111111:assumed-role/w/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/spoke"), true, false},
		{"SCP", wrap("AccessDenied", "... with an explicit deny in a service control policy"), true, true},
		{"EC2 SCP", wrap("UnauthorizedOperation", "You are not authorized to perform this operation. with an explicit deny in a service control policy"), true, true},
		{"throttled", wrap("Throttling", "Rate exceeded"), false, false},
		{"not an API error", fmt.Errorf("dial tcp: refused"), false, false},
	} {
		if got := Refused(c.err); got != c.refused {
			t.Errorf("%s: Refused = %v, want %v", c.name, got, c.refused)
		}
		if got := DeniedByPolicy(c.err); got != c.byPolicy {
			t.Errorf("%s: DeniedByPolicy = %v, want %v", c.name, got, c.byPolicy)
		}
	}
}
