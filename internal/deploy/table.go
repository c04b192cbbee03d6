package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDBAPI lists the DynamoDB operations deploy calls: the CLI's own
// credentials look the configuration table up; the functions' role does
// not need it.
type DynamoDBAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// tableLogicalID is the configuration table's logical id in the template
// (the Python ebs_snapper's).
const tableLogicalID = "EbsSnapshotConfigurationTable"

// tableExists reports whether the configuration table exists in the
// region (DescribeTable answers ResourceNotFoundException when it does
// not).
func tableExists(ctx context.Context, api DynamoDBAPI, region string) (bool, error) {
	_, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(Table)})
	var missing *ddbtypes.ResourceNotFoundException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &missing):
		return false, nil
	default:
		return false, fmt.Errorf("look up table %s in %s: %w", Table, region, err)
	}
}

// ImportTemplate returns the template that imports an existing
// configuration table into a new stack (JSON): a resource import may hold
// only the resources it imports, so this is the full template's table
// resource with the parameters and conditions it uses and nothing else; the
// next deploy updates the stack to the full template.
func ImportTemplate() []byte {
	var full struct {
		AWSTemplateFormatVersion string
		Parameters               map[string]json.RawMessage
		Conditions               map[string]json.RawMessage
		Resources                map[string]json.RawMessage
	}
	if err := json.Unmarshal(templateJSON, &full); err != nil {
		panic(fmt.Sprintf("embedded template.json: %v", err))
	}
	out, err := json.MarshalIndent(map[string]any{
		"AWSTemplateFormatVersion": full.AWSTemplateFormatVersion,
		"Description":              "ebs-snapper: import the configuration table " + Table + " (then run ebs-snapper deploy)",
		"Parameters":               map[string]json.RawMessage{"CostCenter": full.Parameters["CostCenter"], "TableKmsKeyArn": full.Parameters["TableKmsKeyArn"]},
		"Conditions":               map[string]json.RawMessage{"HasCostCenter": full.Conditions["HasCostCenter"], "HasTableKey": full.Conditions["HasTableKey"]},
		"Resources":                map[string]json.RawMessage{tableLogicalID: full.Resources[tableLogicalID]},
	}, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("import template: %v", err))
	}
	return append(out, '\n')
}
