package configstore_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.RunTests(m)) }

const table = "ebs_snapshot_configuration"

// The README's examples, as an operator would type them.
const (
	dailyTagged     = `{"snapshot": {"minimum": 5, "frequency": "1 day", "retention": "5 days"}, "match": {"tag:backup": "daily"}}`
	taggedInstances = `{"snapshot": {"minimum": 5, "frequency": "6 hours", "retention": "5 days"}, "match": {"tag:backup": "yes"}}`
)

// runSuite runs the behaviours every Store must share against a fresh,
// empty store from newStore.
func runSuite(t *testing.T, newStore func(*testing.T) configstore.Store) {
	ctx := context.Background()
	item := func(account, id, conf string) configstore.Item {
		return configstore.Item{AccountID: account, ID: id, Configuration: conf}
	}
	mustPut := func(t *testing.T, s configstore.Store, items ...configstore.Item) {
		t.Helper()
		for _, it := range items {
			if err := s.Put(ctx, it); err != nil {
				t.Fatalf("Put(%+v): %v", it, err)
			}
		}
	}
	list := func(t *testing.T, s configstore.Store, account string) []configstore.Item {
		t.Helper()
		items, err := s.List(ctx, account)
		if err != nil {
			t.Fatalf("List(%s): %v", account, err)
		}
		return items
	}

	t.Run("empty account lists nothing", func(t *testing.T) {
		if got := list(t, newStore(t), "112233445566"); len(got) != 0 {
			t.Errorf("List = %+v, want none", got)
		}
	})

	t.Run("put then get returns the text unchanged", func(t *testing.T) {
		s := newStore(t)
		// Key order, spacing and non-ASCII text survive a round trip: the
		// store never re-encodes the JSON.
		want := item("112233445566", "daily_tagged", dailyTagged+" \n\t{\"é\": \"\\u00e9\"}")
		mustPut(t, s, want)
		got, ok, err := s.Get(ctx, want.AccountID, want.ID)
		if err != nil || !ok {
			t.Fatalf("Get = %+v, %v, %v; want the item", got, ok, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
	})

	t.Run("get of a missing id is not an error", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, item("112233445566", "a", dailyTagged))
		for _, k := range [][2]string{{"112233445566", "b"}, {"999999999999", "a"}} {
			if got, ok, err := s.Get(ctx, k[0], k[1]); err != nil || ok {
				t.Errorf("Get(%s, %s) = %+v, %v, %v; want not found, no error", k[0], k[1], got, ok, err)
			}
		}
	})

	t.Run("put replaces", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, item("112233445566", "a", dailyTagged), item("112233445566", "a", taggedInstances))
		want := []configstore.Item{item("112233445566", "a", taggedInstances)}
		if diff := cmp.Diff(want, list(t, s, "112233445566")); diff != "" {
			t.Errorf("List (-want +got):\n%s", diff)
		}
	})

	t.Run("list is sorted by id bytes and holds one account only", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []string{"b", "ä", "a-b", "c", "A", "a"} {
			mustPut(t, s, item("112233445566", id, dailyTagged))
		}
		mustPut(t, s, item("999999999999", "other", taggedInstances))
		var got []string
		for _, it := range list(t, s, "112233445566") {
			if it.AccountID != "112233445566" {
				t.Errorf("item %+v from another account", it)
			}
			got = append(got, it.ID)
		}
		if diff := cmp.Diff([]string{"A", "a", "a-b", "b", "c", "ä"}, got); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
	})

	t.Run("identical JSON under two ids stays two items", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, item("112233445566", "one", dailyTagged), item("112233445566", "two", dailyTagged))
		if got := list(t, s, "112233445566"); len(got) != 2 {
			t.Errorf("List = %+v, want both ids", got)
		}
	})

	t.Run("delete removes, and a missing id is not an error", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, item("112233445566", "a", dailyTagged), item("112233445566", "b", dailyTagged))
		for _, id := range []string{"a", "a", "never-stored"} {
			if err := s.Delete(ctx, "112233445566", id); err != nil {
				t.Fatalf("Delete(%s): %v", id, err)
			}
		}
		if _, ok, _ := s.Get(ctx, "112233445566", "a"); ok {
			t.Error("a is still there after Delete")
		}
		if diff := cmp.Diff([]configstore.Item{item("112233445566", "b", dailyTagged)}, list(t, s, "112233445566")); diff != "" {
			t.Errorf("List (-want +got):\n%s", diff)
		}
	})

	t.Run("empty keys are refused", func(t *testing.T) {
		s := newStore(t)
		for _, it := range []configstore.Item{item("112233445566", "", dailyTagged), item("", "a", dailyTagged)} {
			if err := s.Put(ctx, it); err == nil {
				t.Errorf("Put(%+v) succeeded, want an error", it)
			}
		}
		if _, _, err := s.Get(ctx, "112233445566", ""); err == nil {
			t.Error("Get with an empty id succeeded, want an error")
		}
		if err := s.Delete(ctx, "112233445566", ""); err == nil {
			t.Error("Delete with an empty id succeeded, want an error")
		}
	})
}

func TestMemory(t *testing.T) {
	runSuite(t, func(*testing.T) configstore.Store { return &configstore.Memory{} })
}

func TestDynamo(t *testing.T) {
	motoserver.Require(t)
	runSuite(t, func(t *testing.T) configstore.Store {
		d, _ := newDynamo(t, table, true)
		return d
	})
}

// newDynamo resets moto and returns a store on the named table, created
// first when create is set, with the SDK client under it.
func newDynamo(t *testing.T, name string, create bool) (*configstore.Dynamo, *dynamodb.Client) {
	t.Helper()
	ctx := motoserver.Context(t)
	client := dynamodb.NewFromConfig(motoserver.Require(t).Config(t))
	d := configstore.NewDynamo(client, name)
	if create {
		if err := d.CreateTable(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return d, client
}

func TestDynamoCreateTableIsIdempotentWithTheOriginalSchema(t *testing.T) {
	d, client := newDynamo(t, table, true)
	ctx := motoserver.Context(t)
	if err := d.CreateTable(ctx); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range out.Table.KeySchema {
		got[aws.ToString(k.AttributeName)] = string(k.KeyType)
	}
	for _, a := range out.Table.AttributeDefinitions {
		got[aws.ToString(a.AttributeName)] += "/" + string(a.AttributeType)
	}
	want := map[string]string{"aws_account_id": "HASH/S", "id": "RANGE/S"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("key schema (-want +got):\n%s", diff)
	}
	if out.Table.BillingModeSummary == nil || out.Table.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", out.Table.BillingModeSummary)
	}
}

func TestDynamoMissingTableSaysWhatToDo(t *testing.T) {
	d, _ := newDynamo(t, "no_such_table", false)
	ctx := motoserver.Context(t)
	want := `configuration table "no_such_table" not found in us-east-1: deploy the stack, or pass --table/EBS_SNAPPER_TABLE: `
	_, err := d.List(ctx, "112233445566")
	_, _, getErr := d.Get(ctx, "112233445566", "a")
	putErr := d.Put(ctx, configstore.Item{AccountID: "112233445566", ID: "a", Configuration: dailyTagged})
	delErr := d.Delete(ctx, "112233445566", "a")
	for op, err := range map[string]error{"List": err, "Get": getErr, "Put": putErr, "Delete": delErr} {
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s error = %v, want it to start with %q", op, err, want)
		}
		var notFound *types.ResourceNotFoundException
		if !errors.As(err, &notFound) {
			t.Errorf("%s error does not wrap the SDK's ResourceNotFoundException: %v", op, err)
		}
	}
}

// queryCounter counts the Query calls the paginator makes.
type queryCounter struct {
	*dynamodb.Client
	calls atomic.Int32
}

func (q *queryCounter) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	q.calls.Add(1)
	return q.Client.Query(ctx, in, opts...)
}

// The original read one Query page: past 1 MB of stanzas the rest were
// silently lost. Five stanzas of ~300 KB (a long ignore list) make 1.5 MB,
// more than one page in DynamoDB and in moto alike.
func TestDynamoListReadsEveryPage(t *testing.T) {
	_, client := newDynamo(t, table, true)
	ctx := motoserver.Context(t)
	counter := &queryCounter{Client: client}
	d := configstore.NewDynamo(counter, table)
	var ids []string
	for i := range 5 {
		id := string(rune('a' + i))
		var ignore strings.Builder
		for j := range 14000 {
			if j > 0 {
				ignore.WriteString(", ")
			}
			ignore.WriteString(`"i-0123456789abcd"`)
		}
		conf := `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "12 hours"}, "ignore": [` + ignore.String() + `]}`
		if err := d.Put(ctx, configstore.Item{AccountID: "112233445566", ID: id, Configuration: conf}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	loaded, err := configstore.Load(ctx, d, "112233445566")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range loaded.Stanzas {
		got = append(got, s.ID)
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("loaded stanzas (-want +got):\n%s", diff)
	}
	if n := counter.calls.Load(); n < 2 {
		t.Errorf("Query calls = %d, want at least 2: the listing never needed a second page, so this test proves nothing", n)
	}
}

// Items written behind the tool's back with a configuration that is
// missing or not a string must not break the listing of the account's
// other stanzas, and each must say what is wrong with it (issue 10, item
// 10): the attribute, the type found and the type wanted.
func TestDynamoItemWithNonStringConfiguration(t *testing.T) {
	d, client := newDynamo(t, table, true)
	ctx := motoserver.Context(t)
	if err := d.Put(ctx, configstore.Item{AccountID: "112233445566", ID: "good", Configuration: dailyTagged}); err != nil {
		t.Fatal(err)
	}
	const want = `want a string (S) holding the stanza's JSON`
	broken := map[string]struct {
		conf types.AttributeValue
		msg  string
	}{
		"binary":  {&types.AttributeValueMemberB{Value: []byte(dailyTagged)}, `binary: attribute "configuration" is binary (B); ` + want},
		"map":     {&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"match": &types.AttributeValueMemberS{Value: "x"}}}, `map: attribute "configuration" is a map (M); ` + want},
		"missing": {nil, `missing: attribute "configuration" is missing; ` + want},
		"number":  {&types.AttributeValueMemberN{Value: "5"}, `number: attribute "configuration" is a number (N); ` + want},
	}
	for id, b := range broken {
		item := map[string]types.AttributeValue{
			"aws_account_id": &types.AttributeValueMemberS{Value: "112233445566"},
			"id":             &types.AttributeValueMemberS{Value: id},
		}
		if b.conf != nil {
			item["configuration"] = b.conf
		}
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	loaded, err := configstore.Load(ctx, d, "112233445566")
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Stanzas) != 1 || loaded.Stanzas[0].ID != "good" {
		t.Errorf("stanzas = %+v, want only good", loaded.Stanzas)
	}
	if len(loaded.Invalid) != len(broken) {
		t.Fatalf("invalid = %+v, want %d", loaded.Invalid, len(broken))
	}
	for _, inv := range loaded.Invalid {
		var attrErr *configstore.AttributeError
		if !errors.As(inv.Err, &attrErr) || inv.Err.Error() != broken[inv.ID].msg {
			t.Errorf("%s: error %T %q, want *configstore.AttributeError %q", inv.ID, inv.Err, inv.Err, broken[inv.ID].msg)
		}
	}
	it, ok, err := d.Get(ctx, "112233445566", "number")
	if err != nil || !ok || it.Broken == nil || it.Broken.Error() != broken["number"].msg {
		t.Errorf("Get(number) = %+v, %v, %v; want the item with its AttributeError", it, ok, err)
	}
}
