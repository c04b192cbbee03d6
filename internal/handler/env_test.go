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
