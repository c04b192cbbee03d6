// Package deploy installs ebs-snapper in an AWS account and region: it
// packages the binary as a Lambda zip (bootstrap for provided.al2023),
// keeps it in a private code bucket, creates or updates the CloudFormation
// stack of template.json, pushes the code to the stack's functions and
// publishes a version, and removes all of it again except the
// configuration table.
//
//	clients := deploy.NewClients(cfg)
//	err := deploy.Run(ctx, clients, deploy.Options{Account: "123456789012", Region: "eu-west-1", ...})
//
// The stack keeps the Python ebs_snapper's name (ebs-snapper-<account>) and
// the table's logical id, so deploying over a stack the Python tool made
// upgrades it in place and keeps the stanzas.
package deploy

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

//go:embed template.json
var templateJSON []byte

// Template returns the CloudFormation template (JSON), as embedded in the
// binary and printed by "deploy --print-template".
func Template() []byte { return slices.Clone(templateJSON) }

// The template's parameters that deploy itself sets on every create and
// update; the operator chooses them through --zip and --arch.
const (
	ParamBucket       = "LambdaS3Bucket"
	ParamKey          = "LambdaS3Key"
	ParamArchitecture = "Architecture"
)

// ParamEc2Rates is the workers' EBS_SNAPPER_RATES, in the syntax of the
// CLI's --rate: CloudFormation cannot check it, so deploy's caller does
// (ebs.ParseRates) before a bad value fails every worker's start.
const ParamEc2Rates = "Ec2Rates"

// ParamReportBucket is the bucket the report function writes the RPO
// report to; the stack has that function only when it is set.
const ParamReportBucket = "ReportBucket"

// Architectures the template accepts (its Architecture parameter), the
// first being the default.
var Architectures = []string{"arm64", "x86_64"}

// Table is the configuration table the template creates and retains: the
// original's name.
const Table = "ebs_snapshot_configuration"

// StackName is the stack of an account: the Python ebs_snapper's name, so
// that deploy updates a stack it made instead of making a second one.
func StackName(account string) string { return "ebs-snapper-" + account }

// BucketName is the private code bucket of an account and region (S3
// bucket names are global, so both are in it).
func BucketName(account, region string) string { return "ebs-snapper-" + account + "-" + region }

// BucketTag is the tag deploy puts on the code bucket, its value the
// stack's name, so the bucket says what it serves.
const BucketTag = "ebs-snapper:stack"

// CodeKey is the S3 key of the code zip for an architecture: a change of
// architecture changes the key, so CloudFormation replaces code and
// architecture together.
func CodeKey(arch string) string { return "ebs-snapper-" + arch + ".zip" }

// Parameter is one parameter of the template.
type Parameter struct {
	Name        string
	Description string
	// Default is the template's default, as CloudFormation reads it (a
	// number as its decimal text); HasDefault is false for parameters
	// deploy must pass.
	Default    string
	HasDefault bool
	Constraints
}

// Constraints are a template parameter's constraints on a value, with
// CloudFormation's names, which Parameter.Check applies as CloudFormation
// does.
type Constraints struct {
	Type           string
	AllowedValues  []string
	AllowedPattern string
	MinValue       *float64
	MaxValue       *float64
	// ConstraintDescription says in words what AllowedPattern wants.
	ConstraintDescription string
}

// Parameters returns the template's parameters, sorted by name.
func Parameters() []Parameter {
	var t struct {
		Parameters map[string]struct {
			Description string
			Default     any
			Constraints
		}
	}
	if err := json.Unmarshal(templateJSON, &t); err != nil {
		// The template is embedded and tested: this is a build defect.
		panic(fmt.Sprintf("embedded template.json: %v", err))
	}
	var ps []Parameter
	for name, p := range t.Parameters {
		ps = append(ps, Parameter{
			Name: name, Description: p.Description,
			Default: fmt.Sprint(p.Default), HasDefault: p.Default != nil,
			Constraints: p.Constraints,
		})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// Check applies the template's constraints on p to v (AllowedValues,
// AllowedPattern matching the whole value, a Number's MinValue and
// MaxValue), so that deploy refuses a value before it uploads anything
// rather than CloudFormation refusing it halfway.
func (p Parameter) Check(v string) error {
	if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
		return &ParameterError{Name: p.Name, Value: v, Err: fmt.Errorf("want %s", strings.Join(p.AllowedValues, " or "))}
	}
	if p.AllowedPattern != "" {
		re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
		if err != nil {
			// The template is embedded and tested: this is a build defect.
			panic(fmt.Sprintf("embedded template.json: %s: AllowedPattern: %v", p.Name, err))
		}
		if !re.MatchString(v) {
			want := p.ConstraintDescription
			if want == "" {
				want = "a value matching " + p.AllowedPattern
			}
			return &ParameterError{Name: p.Name, Value: v, Err: fmt.Errorf("want %s", want)}
		}
	}
	if p.Type == "Number" {
		n, err := strconv.ParseFloat(v, 64)
		switch {
		case err != nil:
			return &ParameterError{Name: p.Name, Value: v, Err: errors.New("want a number")}
		case p.MinValue != nil && n < *p.MinValue, p.MaxValue != nil && n > *p.MaxValue:
			return &ParameterError{Name: p.Name, Value: v, Err: fmt.Errorf("want %s to %s", bound(p.MinValue), bound(p.MaxValue))}
		}
	}
	return nil
}

func bound(f *float64) string {
	if f == nil {
		return "any"
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// ParameterNames returns the names of the template's parameters, sorted.
func ParameterNames() []string {
	var names []string
	for _, p := range Parameters() {
		names = append(names, p.Name)
	}
	return names
}
