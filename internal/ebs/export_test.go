package ebs

import "golang.org/x/time/rate"

// Limiters exposes the client's token buckets to the external tests.
func (c *Client) Limiters() (create, delete *rate.Limiter) { return c.create, c.delete }

// API exposes the wrapped API to the external tests.
func (c *Client) API() EC2API { return c.api }
