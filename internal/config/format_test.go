package config

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{12 * time.Hour, "12h"},
		{7 * 24 * time.Hour, "7d"},
		{36 * time.Hour, "1d12h"},
		{10 * time.Minute, "10m"},
		{90 * time.Minute, "1h30m"},
		{45*time.Second + 300*time.Millisecond, "45s"},
		{-6 * time.Hour, "-6h"},
		{24*time.Hour + time.Second, "1d1s"},
	} {
		if got := FormatDuration(c.d); got != c.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
