package config

import (
	"strconv"
	"strings"
	"time"
)

// FormatDuration writes d as people write it in prose, with its non-zero
// units of days, hours, minutes and seconds: "7d", "12h", "1d12h",
// "10m", "1h30m", "45s"; "0s" for zero. Sub-second parts are dropped. It
// is what messages and reasons print instead of Go's "168h0m0s".
func FormatDuration(d time.Duration) string {
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	d = d.Truncate(time.Second)
	if d == 0 {
		return "0s"
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}
