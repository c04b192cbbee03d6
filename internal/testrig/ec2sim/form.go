package ec2sim

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
)

// The EC2 Query API flattens lists into numbered parameters starting at 1
// ("Filter.1.Name", "Filter.1.Value.2"); these helpers read them back
// into the SDK's input types, as the aws-sdk-go-v2 ec2query serializer
// writes them.

// list reads prefix.1, prefix.2, ... up to the first gap; nil when none.
func list(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		k := prefix + "." + strconv.Itoa(i)
		if _, ok := form[k]; !ok {
			return out
		}
		out = append(out, form.Get(k))
	}
}

func filters(form url.Values) []ec2types.Filter {
	var out []ec2types.Filter
	for i := 1; ; i++ {
		p := "Filter." + strconv.Itoa(i)
		if _, ok := form[p+".Name"]; !ok {
			return out
		}
		out = append(out, ec2types.Filter{Name: aws.String(form.Get(p + ".Name")), Values: list(form, p+".Value")})
	}
}

func tagSpecs(form url.Values) []ec2types.TagSpecification {
	var out []ec2types.TagSpecification
	for i := 1; ; i++ {
		p := "TagSpecification." + strconv.Itoa(i)
		if _, ok := form[p+".ResourceType"]; !ok {
			return out
		}
		spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceType(form.Get(p + ".ResourceType"))}
		for j := 1; ; j++ {
			t := p + ".Tag." + strconv.Itoa(j)
			if _, ok := form[t+".Key"]; !ok {
				break
			}
			spec.Tags = append(spec.Tags, ec2types.Tag{Key: aws.String(form.Get(t + ".Key")), Value: aws.String(form.Get(t + ".Value"))})
		}
		out = append(out, spec)
	}
}

// str is the parameter's value, nil when absent.
func str(form url.Values, key string) *string {
	if _, ok := form[key]; !ok {
		return nil
	}
	return aws.String(form.Get(key))
}

// boolean is the parameter's value ("true" or "false"), nil when absent.
func boolean(form url.Values, key string) (*bool, error) {
	v := str(form, key)
	if v == nil {
		return nil, nil
	}
	b, err := strconv.ParseBool(*v)
	if err != nil {
		return nil, invalid(key, *v)
	}
	return aws.Bool(b), nil
}

// int32Param is the parameter's value, nil when absent.
func int32Param(form url.Values, key string) (*int32, error) {
	v := str(form, key)
	if v == nil {
		return nil, nil
	}
	n, err := strconv.ParseInt(*v, 10, 32)
	if err != nil {
		return nil, invalid(key, *v)
	}
	return aws.Int32(int32(n)), nil
}

// page reads MaxResults and NextToken.
func page(form url.Values) (maxResults *int32, nextToken *string, err error) {
	maxResults, err = int32Param(form, "MaxResults")
	return maxResults, str(form, "NextToken"), err
}

func invalid(key, value string) error {
	return &smithy.GenericAPIError{Code: ebs.CodeInvalidParameterValue, Message: fmt.Sprintf("Value (%s) for parameter %s is invalid.", value, key), Fault: smithy.FaultClient}
}
