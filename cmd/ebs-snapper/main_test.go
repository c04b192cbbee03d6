package main

import "testing"

func TestMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		env   map[string]string
		limit int64
		ok    bool
	}{
		{map[string]string{lambdaMemoryEnv: "256"}, 256 << 20 * 8 / 10, true},
		{map[string]string{lambdaMemoryEnv: "1024"}, 1024 << 20 * 8 / 10, true},
		{map[string]string{lambdaMemoryEnv: "256", "GOMEMLIMIT": "100MiB"}, 0, false},
		{map[string]string{}, 0, false},
		{map[string]string{lambdaMemoryEnv: "lots"}, 0, false},
		{map[string]string{lambdaMemoryEnv: "0"}, 0, false},
	} {
		limit, ok := memoryLimit(func(k string) string { return c.env[k] })
		if limit != c.limit || ok != c.ok {
			t.Errorf("memoryLimit(%v) = %d, %v; want %d, %v", c.env, limit, ok, c.limit, c.ok)
		}
	}
}
