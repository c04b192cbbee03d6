package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// The CLI-only table reproduces every property of the template's table:
// decoding refuses a property it does not know, so a template change that
// CreateTable would not follow fails here.
func TestCreateTableFollowsTheTemplate(t *testing.T) {
	p, err := templateTable(map[string]string{"CostCenter": "ops"})
	if err != nil {
		t.Fatal(err)
	}
	in := p.createTableInput()
	if aws.ToString(in.TableName) != Table || len(in.KeySchema) != 2 ||
		aws.ToString(in.KeySchema[0].AttributeName) != "aws_account_id" || in.KeySchema[0].KeyType != "HASH" ||
		aws.ToString(in.KeySchema[1].AttributeName) != "id" || in.KeySchema[1].KeyType != "RANGE" ||
		in.BillingMode != "PAY_PER_REQUEST" || len(in.Tags) != 1 || aws.ToString(in.Tags[0].Value) != "ops" {
		t.Errorf("CreateTable input %+v", in)
	}
	if p.PointInTimeRecoverySpecification == nil || !p.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled {
		t.Error("the template's point-in-time recovery was not read")
	}
	if in.SSESpecification == nil || !aws.ToBool(in.SSESpecification.Enabled) || in.SSESpecification.KMSMasterKeyId != nil {
		t.Errorf("encryption %+v, want the AWS managed key", in.SSESpecification)
	}
	plain, err := templateTable(nil)
	if err != nil || len(plain.createTableInput().Tags) != 0 {
		t.Errorf("no CostCenter: %v, tags %v", err, plain.Tags)
	}
	const key = "arn:aws:kms:eu-west-1:123456789012:key/1234"
	keyed, err := templateTable(map[string]string{"TableKmsKeyArn": key})
	if err != nil {
		t.Fatal(err)
	}
	if sse := keyed.createTableInput().SSESpecification; sse == nil || sse.SSEType != "KMS" || aws.ToString(sse.KMSMasterKeyId) != key {
		t.Errorf("TableKmsKeyArn: encryption %+v, want KMS with %s", sse, key)
	}
}

func TestVerifySums(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "code.zip")
	data := []byte("zip bytes")
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	if got, err := verifySums(path, data); got != "" || err != nil {
		t.Errorf("no SHA256SUMS: %q, %v; want nothing checked", got, err)
	}
	write := func(text string) {
		if err := os.WriteFile(filepath.Join(dir, SumsFile), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(good + "  other.zip\n")
	if got, err := verifySums(path, data); got != "" || err != nil {
		t.Errorf("SHA256SUMS without the zip: %q, %v; want nothing checked", got, err)
	}
	write("0000  other.zip\n" + good + "  code.zip\n")
	if got, err := verifySums(path, data); got != filepath.Join(dir, SumsFile) || err != nil {
		t.Errorf("matching: %q, %v", got, err)
	}
	write(strings.Repeat("0", 64) + "  code.zip\n")
	if _, err := verifySums(path, data); !errors.Is(err, ErrChecksum) {
		t.Errorf("mismatch: %v, want ErrChecksum", err)
	}
}

func TestCheckVersion(t *testing.T) {
	cli := version.Info{Version: "v1.2.3", Commit: "abc"}
	if err := checkVersion(Code{Build: version.Info{Version: "v1.2.3", Commit: "abc"}}, cli); err != nil {
		t.Errorf("same version: %v", err)
	}
	var mismatch *VersionMismatchError
	if err := checkVersion(Code{Source: "x.zip", Build: version.Info{Version: "v1.2.2", Commit: "def"}}, cli); !errors.As(err, &mismatch) ||
		!strings.Contains(err.Error(), "the bootstrap in x.zip is ebs-snapper v1.2.2") {
		t.Errorf("other version: %v", err)
	}
	if err := checkVersion(Code{Source: "x.zip", BuildErr: errors.New("not a Go binary")}, cli); !errors.As(err, &mismatch) ||
		!strings.Contains(err.Error(), "cannot tell the version of the bootstrap in x.zip (not a Go binary)") {
		t.Errorf("unreadable version: %v", err)
	}
}
