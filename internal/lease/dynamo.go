package lease

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

// The lease table's attributes. KeyAttribute is its hash key (a string)
// and ExpiresAttribute its TTL attribute (a number, Unix seconds), as the
// stack's template declares them.
const (
	KeyAttribute     = "lease_key"
	ExpiresAttribute = "expires_at"
	attrHolder       = "holder"
	attrChain        = "chain"
)

// Table is the stack's lease table (its template names it), in the
// stack's region, the configuration table's.
const Table = "ebs_snapper_lease"

// ErrNoTable is matched (errors.Is) by the error of an Acquire on a lease
// table that does not exist (DynamoDB's ResourceNotFoundException): no
// stack is deployed in the table's region.
var ErrNoTable = errors.New("no lease table")

// DynamoAPI lists exactly the DynamoDB operations the lease calls, with
// the SDK's signatures: *dynamodb.Client implements it, and IAMActions
// derives the role's grant on the lease table from it.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var (
	_ DynamoAPI = (*dynamodb.Client)(nil)
	_ Store     = (*Dynamo)(nil)
)

// IAMActions returns, sorted, the DynamoDB actions of DynamoAPI: what the
// Lambda role needs on the lease table, and on it only.
func IAMActions() []string {
	return awsclient.IAMActions("dynamodb", reflect.TypeFor[DynamoAPI]())
}

// Dynamo is the Store on a DynamoDB table whose hash key is KeyAttribute.
// DynamoDB's TTL deletes lapsed leases some time after ExpiresAttribute
// (up to days later); the conditions compare the expiry themselves, so a
// lapsed lease that still exists is free all the same.
type Dynamo struct {
	api   DynamoAPI
	table string
}

// NewDynamo returns the lease store on the named table.
func NewDynamo(api DynamoAPI, table string) *Dynamo { return &Dynamo{api: api, table: table} }

// FromConfig returns the lease store on the named table in cfg.Region,
// with a DynamoDB client built from cfg (awsclient.Load's).
func FromConfig(cfg aws.Config, table string) *Dynamo {
	return NewDynamo(dynamodb.NewFromConfig(cfg), table)
}

// Acquire takes the lease with one conditional PutItem, as Store says. A
// lease held by another holder is a *HeldError naming it (read from the
// failed condition's ReturnValuesOnConditionCheckFailure); any other
// failure names the table and the key.
//
// IAM: dynamodb:PutItem on the lease table.
func (d *Dynamo) Acquire(ctx context.Context, l Lease, from string, now time.Time) error {
	cond := "attribute_not_exists(#k) OR #e < :now OR #h = :me"
	names := map[string]string{"#k": KeyAttribute, "#e": ExpiresAttribute, "#h": attrHolder}
	values := map[string]types.AttributeValue{":now": number(now.Unix()), ":me": &types.AttributeValueMemberS{Value: l.Holder}}
	if from != "" {
		// DynamoDB refuses names and values the expression does not use.
		cond += " OR #h = :from"
		values[":from"] = &types.AttributeValueMemberS{Value: from}
	}
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]types.AttributeValue{
			KeyAttribute:     &types.AttributeValueMemberS{Value: l.Key},
			attrHolder:       &types.AttributeValueMemberS{Value: l.Holder},
			attrChain:        &types.AttributeValueMemberS{Value: l.Chain},
			ExpiresAttribute: number(expiresAt(l.Expires)),
		},
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &failed):
		return heldBy(l.Key, failed.Item)
	case errors.As(err, &missing):
		return fmt.Errorf("take lease %s in table %s: %w: %w", l.Key, d.table, ErrNoTable, err)
	case err != nil:
		return fmt.Errorf("take lease %s in table %s: %w", l.Key, d.table, err)
	}
	return nil
}

// Release deletes the lease with one DeleteItem conditioned on holder.
//
// IAM: dynamodb:DeleteItem on the lease table.
func (d *Dynamo) Release(ctx context.Context, key, holder string) error {
	_, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           aws.String(d.table),
		Key:                                 map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: key}},
		ConditionExpression:                 aws.String("#h = :me"),
		ExpressionAttributeNames:            map[string]string{"#h": attrHolder},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":me": &types.AttributeValueMemberS{Value: holder}},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return heldBy(key, failed.Item)
	case err != nil:
		return fmt.Errorf("release lease %s in table %s: %w", key, d.table, err)
	}
	return nil
}

// heldBy reads the current holder from the item a failed condition
// returned (empty when DynamoDB returned none: the lease is gone).
func heldBy(key string, item map[string]types.AttributeValue) *HeldError {
	e := &HeldError{Key: key}
	if v, ok := item[attrHolder].(*types.AttributeValueMemberS); ok {
		e.Holder = v.Value
	}
	if v, ok := item[attrChain].(*types.AttributeValueMemberS); ok {
		e.Chain = v.Value
	}
	if v, ok := item[ExpiresAttribute].(*types.AttributeValueMemberN); ok {
		if s, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			e.Expires = time.Unix(s, 0).UTC()
		}
	}
	return e
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
