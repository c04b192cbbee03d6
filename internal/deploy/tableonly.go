package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableAPI lists the DynamoDB operations CreateTable calls, with the
// CLI's own credentials.
type TableAPI interface {
	DynamoDBAPI
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateContinuousBackups(ctx context.Context, in *dynamodb.UpdateContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error)
}

var _ TableAPI = (*dynamodb.Client)(nil)

// tableProperties is the configuration table's resource in the template,
// with its conditions resolved for the given parameters: every property
// CreateTable reproduces. Decoding refuses any other, so a template change
// that the CLI-only table would not follow fails loudly
// (TestCreateTableFollowsTheTemplate) instead of drifting.
type tableProperties struct {
	TableName            string
	AttributeDefinitions []struct {
		AttributeName string
		AttributeType ddbtypes.ScalarAttributeType
	}
	KeySchema []struct {
		AttributeName string
		KeyType       ddbtypes.KeyType
	}
	BillingMode                      ddbtypes.BillingMode
	PointInTimeRecoverySpecification *struct{ PointInTimeRecoveryEnabled bool }
	SSESpecification                 *struct {
		SSEEnabled     bool
		SSEType        ddbtypes.SSEType
		KMSMasterKeyId string
	}
	DeletionProtectionEnabled *bool
	Tags                      []struct{ Key, Value string }
}

// templateTable reads the configuration table's properties from the
// embedded template, resolving Fn::If, Ref and the conditions it uses
// (Fn::Not, Fn::Equals) with params (a parameter not given is its
// template default).
func templateTable(params map[string]string) (tableProperties, error) {
	var t struct {
		Parameters map[string]struct{ Default any }
		Conditions map[string]any
		Resources  map[string]struct{ Properties any }
	}
	if err := json.Unmarshal(templateJSON, &t); err != nil {
		return tableProperties{}, fmt.Errorf("embedded template.json: %w", err)
	}
	r := resolver{params: params, conditions: t.Conditions, defaults: map[string]any{}}
	for k, p := range t.Parameters {
		r.defaults[k] = p.Default
	}
	props, err := r.value(t.Resources[tableLogicalID].Properties)
	var p tableProperties
	if err != nil {
		return p, fmt.Errorf("template resource %s: %w", tableLogicalID, err)
	}
	b, err := json.Marshal(props)
	if err != nil {
		return p, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("template resource %s: %w (CreateTable does not reproduce it)", tableLogicalID, err)
	}
	return p, nil
}

// noValue stands for AWS::NoValue: the property is left out.
type noValue struct{}

// resolver evaluates the intrinsic functions the table's properties use.
type resolver struct {
	params     map[string]string
	defaults   map[string]any
	conditions map[string]any
}

func (r resolver) value(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		var out []any
		for _, e := range x {
			ev, err := r.value(e)
			if err != nil {
				return nil, err
			}
			if _, skip := ev.(noValue); !skip {
				out = append(out, ev)
			}
		}
		return out, nil
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && len(x) == 1 {
			return r.ref(ref)
		}
		if args, ok := x["Fn::If"].([]any); ok && len(x) == 1 {
			if len(args) != 3 {
				return nil, fmt.Errorf("Fn::If %v: want 3 arguments", args)
			}
			name, _ := args[0].(string)
			c, err := r.condition(r.conditions[name])
			if err != nil {
				return nil, fmt.Errorf("condition %s: %w", name, err)
			}
			if c {
				return r.value(args[1])
			}
			return r.value(args[2])
		}
		out := map[string]any{}
		for k, e := range x {
			if strings.HasPrefix(k, "Fn::") {
				return nil, fmt.Errorf("%s is not supported", k)
			}
			ev, err := r.value(e)
			if err != nil {
				return nil, err
			}
			if _, skip := ev.(noValue); !skip {
				out[k] = ev
			}
		}
		return out, nil
	}
	return v, nil
}

func (r resolver) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	if v, ok := r.defaults[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("Ref %s: not a parameter", name)
}

func (r resolver) condition(v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("%v: not a condition", v)
	}
	if args, ok := m["Fn::Not"].([]any); ok && len(args) == 1 {
		c, err := r.condition(args[0])
		return !c, err
	}
	if args, ok := m["Fn::Equals"].([]any); ok && len(args) == 2 {
		a, err := r.value(args[0])
		if err != nil {
			return false, err
		}
		b, err := r.value(args[1])
		return fmt.Sprint(a) == fmt.Sprint(b), err
	}
	return false, fmt.Errorf("%v: only Fn::Not and Fn::Equals are supported", v)
}

// createTableInput is the CreateTable request that makes the table as the
// stack's template does.
func (p tableProperties) createTableInput() *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:                 aws.String(p.TableName),
		BillingMode:               p.BillingMode,
		DeletionProtectionEnabled: p.DeletionProtectionEnabled,
	}
	for _, a := range p.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(a.AttributeName), AttributeType: a.AttributeType})
	}
	for _, k := range p.KeySchema {
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: k.KeyType})
	}
	if sse := p.SSESpecification; sse != nil {
		in.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(sse.SSEEnabled), SSEType: sse.SSEType}
		if sse.KMSMasterKeyId != "" {
			in.SSESpecification.KMSMasterKeyId = aws.String(sse.KMSMasterKeyId)
		}
	}
	for _, t := range p.Tags {
		in.Tags = append(in.Tags, ddbtypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	return in
}

// tableWait bounds the wait for a new table to become ACTIVE.
const tableWait = 5 * time.Minute

// CreateTable creates the configuration table in region as the stack's
// template defines it for params (the template parameters the table uses,
// CostCenter and TableKmsKeyArn; the defaults for those not given): keys,
// billing mode, encryption, deletion protection, tags. It waits until it
// is ACTIVE and turns point-in-time recovery on as the template does:
// what a CLI-only installation needs for configure -s, and what a later
// deploy imports into the stack unchanged (ImportTemplate). A table that
// already exists is left as it is. It writes one line per step to out and
// reports whether it created the table.
func CreateTable(ctx context.Context, api TableAPI, region string, params map[string]string, out io.Writer) (bool, error) {
	p, err := templateTable(params)
	if err != nil {
		return false, err
	}
	exists, err := tableExists(ctx, api, region)
	if err != nil {
		return false, err
	}
	if exists {
		fmt.Fprintf(out, "table %s (%s): exists, left as it is\n", p.TableName, region)
		return false, nil
	}
	if _, err := api.CreateTable(ctx, p.createTableInput()); err != nil {
		return false, fmt.Errorf("create table %s in %s: %w", p.TableName, region, err)
	}
	w := dynamodb.NewTableExistsWaiter(api)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.TableName)}, tableWait); err != nil {
		return true, fmt.Errorf("wait for table %s in %s to become active: %w", p.TableName, region, err)
	}
	if p.PointInTimeRecoverySpecification != nil && p.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled {
		if _, err := api.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName:                        aws.String(p.TableName),
			PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
		}); err != nil {
			return true, fmt.Errorf("turn on point-in-time recovery of table %s in %s: %w", p.TableName, region, err)
		}
	}
	fmt.Fprintf(out, "table %s (%s): created as the stack creates it (%s)\n", p.TableName, region, p.describe())
	return true, nil
}

// describe names the table's settings for the operator.
func (p tableProperties) describe() string {
	var b bytes.Buffer
	for k, key := range p.KeySchema {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s key %s", key.KeyType, key.AttributeName)
	}
	fmt.Fprintf(&b, ", billing %s", p.BillingMode)
	if p.PointInTimeRecoverySpecification != nil && p.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled {
		b.WriteString(", point-in-time recovery")
	}
	if sse := p.SSESpecification; sse != nil && sse.SSEEnabled {
		if sse.KMSMasterKeyId != "" {
			b.WriteString(", encrypted with KMS key " + sse.KMSMasterKeyId)
		} else {
			b.WriteString(", encrypted with an AWS managed key")
		}
	}
	if p.DeletionProtectionEnabled != nil && *p.DeletionProtectionEnabled {
		b.WriteString(", deletion protection")
	}
	return b.String()
}

// NewTableClient is the DynamoDB client CreateTable needs, for cfg's
// region.
func NewTableClient(cfg aws.Config) TableAPI { return dynamodb.NewFromConfig(cfg) }
