// Package configstore keeps the configuration stanzas in DynamoDB, in the
// table layout of the original ebs_snapper so that an existing table keeps
// working: HASH key aws_account_id (S), RANGE key id (S), and the stanza's
// JSON text in the string attribute configuration.
//
// Dynamo is the DynamoDB store; Memory is an in-memory store with the same
// behaviour for unit tests. Load reads an account's stanzas, leniently, and
// keeps going past an invalid one:
//
//	store := configstore.NewDynamo(dynamodb.NewFromConfig(cfg), "ebs_snapshot_configuration")
//	loaded, err := configstore.Load(ctx, store, account)
//	// loaded.Stanzas are usable; loaded.Invalid name the ids to report.
package configstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
)

// Item is one stored stanza, as stored: the JSON text is not parsed.
type Item struct {
	AccountID     string
	ID            string
	Configuration string
	// Broken, when not nil, says that the item's configuration attribute
	// is missing or not a string (the item was written straight into the
	// table); Configuration is then empty. Put ignores it.
	Broken *AttributeError
}

// AttributeError says what is wrong with a stored item's configuration
// attribute, which must be a DynamoDB string (S) holding the stanza's
// JSON text.
type AttributeError struct {
	ID string
	// Found is the attribute's DynamoDB type ("N", "B", "M", …), or ""
	// when the item has no such attribute.
	Found string
}

// dynamoTypes names DynamoDB's attribute types (DynamoDB Developer Guide,
// "Supported data types and naming rules").
var dynamoTypes = map[string]string{
	"N": "a number", "B": "binary", "BOOL": "a boolean", "NULL": "null", "M": "a map", "L": "a list",
	"SS": "a string set", "NS": "a number set", "BS": "a binary set",
}

func (e *AttributeError) Error() string {
	const want = `want a string (S) holding the stanza's JSON`
	if e.Found == "" {
		return fmt.Sprintf("%s: attribute %q is missing; %s", e.ID, attrConfiguration, want)
	}
	what, ok := dynamoTypes[e.Found]
	if !ok {
		what = "of another type"
	}
	return fmt.Sprintf("%s: attribute %q is %s (%s); %s", e.ID, attrConfiguration, what, e.Found, want)
}

// Lister lists an account's stanzas: all that Load, and so a scheduled
// job, needs. Implementations are safe for concurrent use.
type Lister interface {
	// List returns every item of the account, sorted by id; none is an
	// empty result, not an error.
	List(ctx context.Context, account string) ([]Item, error)
}

// Store holds stanzas per account. Implementations are safe for concurrent
// use.
type Store interface {
	Lister
	// Get returns the item stored under id, and whether there is one.
	Get(ctx context.Context, account, id string) (Item, bool, error)
	// Put stores the item, replacing any item with the same account and id.
	Put(ctx context.Context, item Item) error
	// Delete removes the item; deleting an id that is not stored is not an
	// error (the original never complained either).
	Delete(ctx context.Context, account, id string) error
}

// errEmptyKey is returned by both stores before any call: DynamoDB refuses
// an empty key string, but not for every operation in every emulator.
var errEmptyKey = errors.New("the account id and the stanza id must not be empty")

// Loaded is what Load found for one account.
type Loaded struct {
	// Stanzas are the valid stanzas, sorted by ID.
	Stanzas []config.Stanza
	// Invalid are the items that could not be used, sorted by ID.
	Invalid []Invalid
}

// Invalid is a stored item that could not be parsed.
type Invalid struct {
	ID string
	// Err is a *config.ValidationError listing every problem, or an
	// *AttributeError when the item holds no stanza text at all.
	Err error
}

// Load reads and parses every stanza of the account. An invalid item is
// reported in Loaded.Invalid and never hides the others: the original
// failed the whole account for one bad item. Every id is its own stanza,
// even when two ids hold identical JSON (the original collapsed those).
func Load(ctx context.Context, s Lister, account string) (Loaded, error) {
	items, err := s.List(ctx, account)
	if err != nil {
		return Loaded{}, fmt.Errorf("load the configuration of account %s: %w", account, err)
	}
	var l Loaded
	for _, it := range items {
		st, err := Parse(ctx, it)
		if err != nil {
			l.Invalid = append(l.Invalid, Invalid{ID: it.ID, Err: err})
			continue
		}
		l.Stanzas = append(l.Stanzas, st)
	}
	return l, nil
}

// Parse parses a stored item leniently with config.ParseStored and logs
// each leniency it accepted as a warning, so that an operator can tidy the
// stanza before a stricter reader meets it. An item without stanza text
// returns its *AttributeError.
func Parse(ctx context.Context, it Item) (config.Stanza, error) {
	if it.Broken != nil {
		return config.Stanza{}, it.Broken
	}
	st, warnings, err := config.ParseStored(it.ID, []byte(it.Configuration))
	for _, w := range warnings {
		slog.WarnContext(ctx, "stored stanza: check this", "config_id", it.ID, "problem", w.String())
	}
	return st, err
}
