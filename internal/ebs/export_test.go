package ebs

import "golang.org/x/time/rate"

// Rate exposes the limit and burst NewForRegion gives action's bucket
// under o to the external tests.
func (o Options) Rate(action string) (rate.Limit, int) {
	b, _ := BucketFor(action, true)
	return o.rate(action, b)
}

// API exposes the wrapped API to the external tests.
func (c *Client) API() EC2API { return c.api }
