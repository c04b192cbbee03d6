package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// tableProperties is the configuration table's resource in the template:
// every property CreateTable reproduces. Decoding refuses any other, so a
// template change that the CLI-only table would not follow fails loudly
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
	SSESpecification                 *struct{ SSEEnabled bool }
	DeletionProtectionEnabled        *bool
	// Tags is the CostCenter tag when the CostCenter parameter is set.
	Tags json.RawMessage
}

// templateTable reads the configuration table's properties from the
// embedded template.
func templateTable() (tableProperties, error) {
	var t struct {
		Resources map[string]struct{ Properties json.RawMessage }
	}
	if err := json.Unmarshal(templateJSON, &t); err != nil {
		return tableProperties{}, fmt.Errorf("embedded template.json: %w", err)
	}
	var p tableProperties
	dec := json.NewDecoder(bytes.NewReader(t.Resources[tableLogicalID].Properties))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("template resource %s: %w (CreateTable does not reproduce it)", tableLogicalID, err)
	}
	return p, nil
}

// createTableInput is the CreateTable request that makes the table as the
// stack's template does; costCenter, when not empty, is the CostCenter tag.
func (p tableProperties) createTableInput(costCenter string) *dynamodb.CreateTableInput {
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
	if p.SSESpecification != nil {
		in.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(p.SSESpecification.SSEEnabled)}
	}
	if costCenter != "" {
		in.Tags = []ddbtypes.Tag{{Key: aws.String("CostCenter"), Value: aws.String(costCenter)}}
	}
	return in
}

// tableWait bounds the wait for a new table to become ACTIVE.
const tableWait = 5 * time.Minute

// CreateTable creates the configuration table in region as the stack's
// template defines it (keys, billing mode, encryption, deletion
// protection, the CostCenter tag when costCenter is set), waits until it
// is ACTIVE and turns point-in-time recovery on as the template does:
// what a CLI-only installation needs for configure -s, and what a later
// deploy imports into the stack unchanged (ImportTemplate). A table that
// already exists is left as it is. It writes one line per step to out and
// reports whether it created the table.
func CreateTable(ctx context.Context, api TableAPI, region, costCenter string, out io.Writer) (bool, error) {
	p, err := templateTable()
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
	if _, err := api.CreateTable(ctx, p.createTableInput(costCenter)); err != nil {
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
	if p.SSESpecification != nil && p.SSESpecification.SSEEnabled {
		b.WriteString(", encrypted with an AWS managed key")
	}
	if p.DeletionProtectionEnabled != nil && *p.DeletionProtectionEnabled {
		b.WriteString(", deletion protection")
	}
	return b.String()
}

// NewTableClient is the DynamoDB client CreateTable needs, for cfg's
// region.
func NewTableClient(cfg aws.Config) TableAPI { return dynamodb.NewFromConfig(cfg) }
