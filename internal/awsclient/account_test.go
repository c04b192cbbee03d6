package awsclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

// fakeSTS answers every request with one canned STS (query protocol, XML)
// response. Account discovery against moto is tested end to end by the
// configure integration tests in package cli.
func fakeSTS(t *testing.T, status int, body string) aws.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "GetCallerIdentity" {
			t.Errorf("unexpected request %s %v (%v)", r.Method, r.Form, err)
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
		}),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func identity(account string) string {
	return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::` + account + `:user/operator</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>` + account + `</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`
}

func TestAccountID(t *testing.T) {
	got, err := awsclient.AccountID(context.Background(), fakeSTS(t, http.StatusOK, identity("112233445566")))
	if err != nil || got != "112233445566" {
		t.Errorf("AccountID = %q, %v; want 112233445566", got, err)
	}
}

func TestAccountIDErrorSuggestsTheFlag(t *testing.T) {
	const denied = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error>
  <RequestId>0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0</RequestId>
</ErrorResponse>`
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{name: "STS refuses", status: http.StatusForbidden, body: denied, code: "InvalidClientTokenId"},
		{name: "STS names no account", status: http.StatusOK, body: identity("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := awsclient.AccountID(context.Background(), fakeSTS(t, tc.status, tc.body))
			if err == nil {
				t.Fatalf("AccountID = %q, want an error", got)
			}
			for _, want := range []string{"sts:GetCallerIdentity", "-a/--aws_account_id"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			var api smithy.APIError
			if tc.code != "" && (!errors.As(err, &api) || api.ErrorCode() != tc.code) {
				t.Errorf("error %v does not wrap the STS error %s", err, tc.code)
			}
		})
	}
}
