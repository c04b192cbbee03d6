package configstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

// The original's attribute names: renaming any of them would orphan every
// existing installation's configuration.
const (
	attrAccount       = "aws_account_id"
	attrID            = "id"
	attrConfiguration = "configuration"
)

// createTableWait bounds how long CreateTable waits for a new table to
// become ACTIVE (seconds on DynamoDB, immediate in moto).
const createTableWait = 5 * time.Minute

// QueryAPI is the read path of the scheduled jobs (CLI runs and the
// Lambda workers): Query, and nothing else, so that the Lambda role can be
// granted dynamodb:Query alone (IAMActions).
type QueryAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	// Options gives the client's region, which error messages name.
	Options() dynamodb.Options
}

// DynamoAPI lists exactly the DynamoDB operations the store calls, with
// the SDK's signatures, so that *dynamodb.Client satisfies it and a test
// can wrap one to count or fail calls. Only configure and the test set-up
// need more than QueryAPI.
type DynamoAPI interface {
	QueryAPI
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// IAMActions returns the DynamoDB actions of the read path (QueryAPI),
// sorted: what the Lambda role needs on the table.
func IAMActions() []string {
	return awsclient.IAMActions("dynamodb", reflect.TypeFor[QueryAPI]())
}

var (
	_ DynamoAPI = (*dynamodb.Client)(nil)
	_ Store     = (*Dynamo)(nil)
	_ Lister    = (*Reader)(nil)
)

// Reader lists the stanzas of a DynamoDB table with Query alone: what a
// scheduled job needs, and all a Lambda role built from IAMActions allows.
type Reader struct {
	query QueryAPI
	table string
}

// NewReader returns the read-only store on the named table.
func NewReader(api QueryAPI, table string) *Reader {
	return &Reader{query: api, table: table}
}

// ReaderFromConfig returns the read-only store on the named table in
// cfg.Region, with a DynamoDB client built from cfg (awsclient.Load's).
func ReaderFromConfig(cfg aws.Config, table string) *Reader {
	return NewReader(dynamodb.NewFromConfig(cfg), table)
}

// FromConfig returns the store on the named table in cfg.Region, with a
// DynamoDB client built from cfg (awsclient.Load's).
func FromConfig(cfg aws.Config, table string) *Dynamo {
	return NewDynamo(dynamodb.NewFromConfig(cfg), table)
}

// Dynamo is the Store on a DynamoDB table. Reads are strongly consistent,
// so that "configure -s" followed by "configure -l" shows the new stanza.
type Dynamo struct {
	Reader
	api DynamoAPI
}

// NewDynamo returns the store on the named table.
func NewDynamo(api DynamoAPI, table string) *Dynamo {
	return &Dynamo{Reader: Reader{query: api, table: table}, api: api}
}

// List queries the account's partition page by page (the original read
// only the first 1 MB page and silently dropped the rest). DynamoDB returns
// a partition in range-key order, so the items come sorted by id.
func (d *Reader) List(ctx context.Context, account string) ([]Item, error) {
	if account == "" {
		return nil, errEmptyKey
	}
	p := dynamodb.NewQueryPaginator(d.query, &dynamodb.QueryInput{
		TableName:                 aws.String(d.table),
		KeyConditionExpression:    aws.String("#account = :account"),
		ExpressionAttributeNames:  map[string]string{"#account": attrAccount},
		ExpressionAttributeValues: map[string]types.AttributeValue{":account": str(account)},
		ConsistentRead:            aws.Bool(true),
	})
	items := []Item{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, d.wrap(err, "list the stanzas of account "+account)
		}
		for _, av := range page.Items {
			items = append(items, decode(av))
		}
	}
	return items, nil
}

// Get reads one item.
func (d *Dynamo) Get(ctx context.Context, account, id string) (Item, bool, error) {
	if account == "" || id == "" {
		return Item{}, false, errEmptyKey
	}
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.table),
		Key:            key(account, id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Item{}, false, d.wrap(err, fmt.Sprintf("get stanza %q of account %s", id, account))
	}
	if out.Item == nil {
		return Item{}, false, nil
	}
	return decode(out.Item), true, nil
}

// Put writes the item, replacing any previous one, as the original did.
func (d *Dynamo) Put(ctx context.Context, item Item) error {
	if item.AccountID == "" || item.ID == "" {
		return errEmptyKey
	}
	av := key(item.AccountID, item.ID)
	av[attrConfiguration] = str(item.Configuration)
	if _, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.table), Item: av}); err != nil {
		return d.wrap(err, fmt.Sprintf("store stanza %q of account %s", item.ID, item.AccountID))
	}
	return nil
}

// Delete removes the item; DynamoDB does not complain when it is absent.
func (d *Dynamo) Delete(ctx context.Context, account, id string) error {
	if account == "" || id == "" {
		return errEmptyKey
	}
	if _, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(d.table), Key: key(account, id)}); err != nil {
		return d.wrap(err, fmt.Sprintf("delete stanza %q of account %s", id, account))
	}
	return nil
}

// CreateTable creates the table with the original's key schema, billed per
// request, and waits until it is ACTIVE. A table that already exists is
// fine: the demo and the tests may run it twice.
func (d *Dynamo) CreateTable(ctx context.Context) error {
	_, err := d.api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(d.table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrAccount), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrID), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrAccount), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrID), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	var exists *types.ResourceInUseException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create table %q in %s: %w", d.table, d.region(), err)
	}
	w := dynamodb.NewTableExistsWaiter(d.api, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(d.table)}, createTableWait); err != nil {
		return fmt.Errorf("wait for table %q in %s to become active: %w", d.table, d.region(), err)
	}
	return nil
}

func (d *Reader) region() string { return d.query.Options().Region }

// wrap names the table and region in err, and turns a missing table, the
// usual first-run mistake, into advice.
func (d *Reader) wrap(err error, what string) error {
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		return fmt.Errorf("configuration table %q not found in %s: deploy the stack, or pass --table/EBS_SNAPPER_TABLE: %w", d.table, d.region(), err)
	}
	return fmt.Errorf("%s in table %q (%s): %w", what, d.table, d.region(), err)
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func key(account, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrAccount: str(account), attrID: str(id)}
}

// decode reads an item attribute by attribute rather than with
// attributevalue.UnmarshalMap, so that one item written behind the tool's
// back with a missing or non-string configuration cannot fail the whole
// listing: Item.Broken says what is wrong, and Load reports that id as
// invalid.
func decode(av map[string]types.AttributeValue) Item {
	text := func(name string) string {
		if s, ok := av[name].(*types.AttributeValueMemberS); ok {
			return s.Value
		}
		return ""
	}
	it := Item{AccountID: text(attrAccount), ID: text(attrID), Configuration: text(attrConfiguration)}
	if _, ok := av[attrConfiguration].(*types.AttributeValueMemberS); !ok {
		it.Broken = &AttributeError{ID: it.ID, Found: dynamoType(av[attrConfiguration])}
	}
	return it
}

// dynamoType returns the DynamoDB type code of an attribute value, "" for
// none.
func dynamoType(v types.AttributeValue) string {
	switch v.(type) {
	case nil:
		return ""
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberM:
		return "M"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	}
	return "?"
}
