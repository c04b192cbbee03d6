package handler

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rbin"
	rbintypes "github.com/aws/aws-sdk-go-v2/service/rbin/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/net/html"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// The report handler against moto, every AWS call recorded: in the
// stack's two regions it reads the account (one volume with a snapshot,
// one without), and writes the report as HTML, JSON and CSV into a moto
// S3 bucket, each under its dated key and as latest, encrypted by S3. The
// JSON decodes to the report, the HTML parses and names the volumes, the
// CSV has one row per volume; it calls only what its role grants.
func TestMotoReportHandlerWritesTheReportToS3(t *testing.T) {
	ctx, cfg := motoAccount(t, dailyStanza)
	west, inst := launchInRegion(t, ctx, cfg, "us-west-2")
	if _, err := west.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(inst.VolumeIDs[0])}); err != nil {
		t.Fatal(err)
	}
	// A Recycle Bin rule for the region, so that the report reads it
	// (ListRules, then GetRule) as the clean worker does.
	westCfg := cfg.Copy()
	westCfg.Region = "us-west-2"
	if _, err := rbin.NewFromConfig(westCfg).CreateRule(ctx, &rbin.CreateRuleInput{ResourceType: rbintypes.ResourceTypeEbsSnapshot,
		RetentionPeriod: &rbintypes.RetentionPeriod{RetentionPeriodValue: aws.Int32(14), RetentionPeriodUnit: rbintypes.RetentionPeriodUnitDays}}); err != nil {
		t.Fatal(err)
	}
	s3api := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if _, err := s3api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("audit")}); err != nil {
		t.Fatal(err)
	}
	rec := &opRecorder{ops: map[string]bool{}}
	recorded := cfg.Copy()
	rec.addTo(&recorded)
	captureLogs(t)
	now := time.Now().UTC().Truncate(time.Second)
	h := newHandler(t, Config{Name: Report, Sources: account.FromAWS(recorded, motoTable), Account: motoserver.AccountID,
		Regions: []string{"eu-west-1", "us-west-2"}, Objects: awsclient.BucketFromConfig(recorded, "audit", motoserver.AccountID),
		ReportPrefix: "ebs/", Now: func() time.Time { return now }})
	if err := h.Invoke(invokeCtx(t, "req-report", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
		t.Fatal(err)
	}
	want, err := Calls(Report)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("the report handler called %v, want exactly its role's %v", got, want)
	}

	get := func(key string) []byte {
		t.Helper()
		out, err := s3api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("audit"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("object %s: %v", key, err)
		}
		defer out.Body.Close()
		if out.ServerSideEncryption != "AES256" {
			t.Errorf("object %s: server-side encryption %q, want AES256", key, out.ServerSideEncryption)
		}
		body, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	files := map[string][]byte{}
	for _, ext := range []string{"html", "json", "csv"} {
		dated, latest := ReportKeys("ebs/", motoserver.AccountID, now, ext)
		if !strings.HasPrefix(dated, "ebs/"+motoserver.AccountID+"/"+now.Format("2006/01/02")+"/report-") {
			t.Errorf("dated key %s", dated)
		}
		files[ext] = get(dated)
		if !bytes.Equal(get(latest), files[ext]) {
			t.Errorf("%s differs from %s", latest, dated)
		}
	}

	var rep report.Report
	if err := json.Unmarshal(files["json"], &rep); err != nil {
		t.Fatalf("the JSON report does not decode: %v", err)
	}
	var regions []string
	for _, r := range rep.Regions {
		regions = append(regions, r.Region)
	}
	c := rep.Coverage
	if rep.Account != motoserver.AccountID || !rep.Now.Equal(now) || !slices.Equal(regions, []string{"eu-west-1", "us-west-2"}) ||
		c.Matched != 2 || c.OK != 1 || c.Missing != 1 {
		t.Errorf("report: account %s as of %s, regions %v, coverage %+v; want %s as of %s, the stack's two regions, 2 matched: 1 ok, 1 missing",
			rep.Account, rep.Now, regions, c, motoserver.AccountID, now)
	}

	doc, err := html.Parse(bytes.NewReader(files["html"]))
	if err != nil {
		t.Fatalf("the HTML report does not parse: %v", err)
	}
	text := textOf(doc)
	for _, v := range inst.VolumeIDs {
		if !strings.Contains(text, v) {
			t.Errorf("the HTML report's text does not name volume %s", v)
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(files["csv"])).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Errorf("the CSV report: %d rows (error %v), want a header and one row per volume", len(rows), err)
	}
}

// textOf returns the text of an HTML node and its descendants.
func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
			b.WriteString(" ")
		}
	}
	return b.String()
}

// A bucket the report cannot be written to fails the invocation, naming
// the bucket and key, while the report is still collected.
func TestMotoReportHandlerFailsWhenTheBucketIsMissing(t *testing.T) {
	_, cfg := motoAccount(t, dailyStanza)
	logs := captureLogs(t)
	h := newHandler(t, Config{Name: Report, Sources: account.FromAWS(cfg, motoTable), Account: motoserver.AccountID,
		Regions: []string{"us-west-2"}, Objects: awsclient.BucketFromConfig(cfg, "no-such-bucket", motoserver.AccountID)})
	err := h.Invoke(invokeCtx(t, "req-report", 5*time.Minute), json.RawMessage(`{}`))
	if err == nil || !strings.Contains(err.Error(), "s3://no-such-bucket/"+motoserver.AccountID+"/latest.html") {
		t.Errorf("invocation error %v, want one naming s3://no-such-bucket/…/latest.html", err)
	}
	if !strings.Contains(logs.String(), `"msg":"report not written"`) {
		t.Errorf("no log line says the report was not written:\n%s", logs)
	}
}

// The report function's environment as the stack sets it: the bucket is
// required (checked before any AWS call), the prefix gets its "/", and
// the bucket is the account's (ExpectedBucketOwner).
func TestFromEnvironmentReport(t *testing.T) {
	ctx := offline(t)
	env := map[string]string{NameEnv: Report, TableEnv: "t"}
	if _, err := FromEnvironment(ctx, func(k string) string { return env[k] }, version.Info{Version: "test"}); err == nil || !strings.Contains(err.Error(), ReportBucketEnv) {
		t.Errorf("without a bucket: %v, want an error naming %s", err, ReportBucketEnv)
	}
}

// A report handler without a bucket is refused when it is built.
func TestNewReportNeedsABucket(t *testing.T) {
	if _, err := New(Config{Name: Report}); err == nil || !strings.Contains(err.Error(), ReportBucketEnv) {
		t.Errorf("New without Objects: %v, want an error naming %s", err, ReportBucketEnv)
	}
}

func TestFromEnvironmentTakesTheReportsVariables(t *testing.T) {
	motoserver.Require(t).SetEnv(t)
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	for prefix, want := range map[string]string{"": "", "audit": "audit/", "audit/ebs/": "audit/ebs/"} {
		env := map[string]string{NameEnv: Report, TableEnv: "t", ReportBucketEnv: "audit", ReportPrefixEnv: prefix}
		h, err := FromEnvironment(t.Context(), func(k string) string { return env[k] }, version.Info{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if h.cfg.ReportPrefix != want || h.cfg.Objects.Name() != "audit" {
			t.Errorf("%s=%q: prefix %q bucket %q, want %q in audit", ReportPrefixEnv, prefix, h.cfg.ReportPrefix, h.cfg.Objects.Name(), want)
		}
	}
}
