package handler

import (
	"strings"
	"testing"
)

// A bad EBS_SNAPPER_RATES fails the function's start, naming the variable
// and the item, before any AWS call.
func TestFromEnvironmentRates(t *testing.T) {
	env := map[string]string{NameEnv: Snapshot, TableEnv: "t", RatesEnv: "CreateSnapshot=3,Describe=9"}
	_, err := FromEnvironment(t.Context(), func(k string) string { return env[k] }, "test")
	if err == nil || !strings.Contains(err.Error(), RatesEnv) || !strings.Contains(err.Error(), `unknown action "Describe"`) {
		t.Errorf("FromEnvironment = %v, want an error naming %s and the unknown action", err, RatesEnv)
	}
}

// A bad EBS_SNAPPER_COPY_LIMIT fails the function's start the same way.
func TestFromEnvironmentCopyLimit(t *testing.T) {
	for _, v := range []string{"0", "-1", "twenty"} {
		env := map[string]string{NameEnv: Replication, TableEnv: "t", CopyLimitEnv: v}
		_, err := FromEnvironment(t.Context(), func(k string) string { return env[k] }, "test")
		if err == nil || !strings.Contains(err.Error(), CopyLimitEnv) || !strings.Contains(err.Error(), "1 or more") {
			t.Errorf("%s=%s: FromEnvironment = %v, want an error naming the variable", CopyLimitEnv, v, err)
		}
	}
}
