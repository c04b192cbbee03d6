package handler

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// offline keeps FromEnvironment's AWS calls on this machine, where
// nothing answers (motoserver.Offline), should a check before them
// regress, and returns a short context for it.
func offline(t *testing.T) context.Context {
	motoserver.Offline(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A bad EBS_SNAPPER_RATES fails the function's start, naming the variable
// and the item, before any AWS call.
func TestFromEnvironmentRates(t *testing.T) {
	ctx := offline(t)
	env := map[string]string{NameEnv: Snapshot, TableEnv: "t", RatesEnv: "CreateSnapshot=3,Describe=9"}
	_, err := FromEnvironment(ctx, func(k string) string { return env[k] }, version.Info{Version: "test"})
	if err == nil || !strings.Contains(err.Error(), RatesEnv) || !strings.Contains(err.Error(), `unknown action "Describe"`) {
		t.Errorf("FromEnvironment = %v, want an error naming %s and the unknown action", err, RatesEnv)
	}
}

// A bad EBS_SNAPPER_ACCOUNTS (the stack's ProtectedAccounts, whose keys
// pick the accounts the fan-out sends cells for) fails the function's
// start before any AWS call, naming the variable and the key.
func TestFromEnvironmentAccounts(t *testing.T) {
	ctx := offline(t)
	for _, v := range []string{"prod", "organisation", "12345", "r-", "r-ab12/x", "ou-ab12-cdef3456,", "222222222222,*"} {
		env := map[string]string{NameEnv: FanoutSnapshot, TableEnv: "t", AccountsEnv: v}
		_, err := FromEnvironment(ctx, func(k string) string { return env[k] }, version.Info{Version: "test"})
		if err == nil || !strings.Contains(err.Error(), AccountsEnv+"=") || !strings.Contains(err.Error(), "want a 12-digit account id") {
			t.Errorf("%s=%q: FromEnvironment = %v, want an error naming the variable", AccountsEnv, v, err)
		}
	}
	for _, v := range []string{"organization", "r-ab12,ou-ab12-cdef3456,222222222222"} {
		if _, err := protectedScope(v); err != nil {
			t.Errorf("%s=%q: %v", AccountsEnv, v, err)
		}
	}
}

// A bad EBS_SNAPPER_COPY_LIMIT fails the function's start the same way.
func TestFromEnvironmentCopyLimit(t *testing.T) {
	ctx := offline(t)
	for _, v := range []string{"0", "-1", "twenty"} {
		env := map[string]string{NameEnv: Replication, TableEnv: "t", CopyLimitEnv: v}
		_, err := FromEnvironment(ctx, func(k string) string { return env[k] }, version.Info{Version: "test"})
		if err == nil || !strings.Contains(err.Error(), CopyLimitEnv) || !strings.Contains(err.Error(), "1 or more") {
			t.Errorf("%s=%s: FromEnvironment = %v, want an error naming the variable", CopyLimitEnv, v, err)
		}
	}
}

// The stack's variables as its defaults set them: EBS_SNAPPER_RATES empty
// (Ec2Rates "", EC2's published rates) starts the worker, and
// EBS_SNAPPER_COPY_LIMIT (CopyLimit) reaches the replication worker.
func TestFromEnvironmentTakesTheStacksVariables(t *testing.T) {
	motoserver.Require(t).SetEnv(t)
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	for _, tc := range []struct {
		limit string
		want  int
	}{{"20", 20}, {"35", 35}, {"", 0}} {
		env := map[string]string{NameEnv: Replication, TableEnv: "t", QueueEnv: "https://sqs.us-east-1.amazonaws.com/123456789012/ReplicationSnapshotQueue",
			LeaseTableEnv: "lease", RatesEnv: "", CopyLimitEnv: tc.limit}
		h, err := FromEnvironment(t.Context(), func(k string) string { return env[k] }, version.Info{Version: "test"})
		if err != nil {
			t.Fatalf("%s=%q %s=%q: %v", RatesEnv, "", CopyLimitEnv, tc.limit, err)
		}
		if h.cfg.CopyLimit != tc.want {
			t.Errorf("%s=%q: CopyLimit %d, want %d", CopyLimitEnv, tc.limit, h.cfg.CopyLimit, tc.want)
		}
	}
}

// The log level: Lambda's AWS_LAMBDA_LOG_LEVEL (its ApplicationLogLevel
// names) wins over the function's LOG_LEVEL; neither means info; a bad
// value names its variable.
func TestLogLevelFromTheEnvironment(t *testing.T) {
	for _, tc := range []struct {
		lambda, own string
		want        slog.Level
		err         string
	}{
		{"", "", slog.LevelInfo, ""},
		{"", "debug", slog.LevelDebug, ""},
		{"WARN", "", slog.LevelWarn, ""},
		{"ERROR", "debug", slog.LevelError, ""},
		{"TRACE", "", slog.LevelDebug, ""},
		{"FATAL", "", slog.LevelError, ""},
		{"debug", "", slog.LevelDebug, ""},
		{"LOUD", "", 0, LambdaLogLevelEnv},
		{"", "loud", 0, LogLevelEnv},
	} {
		env := map[string]string{LambdaLogLevelEnv: tc.lambda, LogLevelEnv: tc.own}
		var level slog.LevelVar
		err := setLevel(&level, func(k string) string { return env[k] })
		switch {
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err+"=")):
			t.Errorf("%+v: got %v, want an error naming %s", tc, err, tc.err)
		case tc.err == "" && (err != nil || level.Level() != tc.want):
			t.Errorf("%+v: level %v, %v; want %v", tc, level.Level(), err, tc.want)
		}
	}
}
