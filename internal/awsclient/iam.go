package awsclient

import (
	"context"
	"reflect"
	"slices"
)

// IAMActions returns the IAM actions "<service>:<Operation>" of every SDK
// operation an adapter's API interface lists, sorted. api is the interface
// type (reflect.TypeFor[EC2API]()); a method is an SDK operation when its
// first parameter is a context.Context, as every aws-sdk-go-v2 client
// method is, so helpers such as Options() are left out. An operation's
// IAM action has the operation's name (Service Authorization Reference,
// "Actions defined by <service>"), which is what lets the deploy package
// check that the Lambda role grants exactly what the code calls.
func IAMActions(service string, api reflect.Type) []string {
	ctxType := reflect.TypeFor[context.Context]()
	var actions []string
	for m := range api.Methods() {
		if m.Type.NumIn() > 0 && m.Type.In(0) == ctxType {
			actions = append(actions, service+":"+m.Name)
		}
	}
	slices.Sort(actions)
	return actions
}
