package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvHeader is the header of WriteCSV.
var csvHeader = []string{"region", "status", "volume_id", "instance_id", "instance_name", "config_id", "config_ids", "frequency",
	"newest_completed", "age_seconds", "limit_seconds", "snapshots", "size_gib", "reason"}

// WriteCSV writes one row per matched volume, worst status first within
// each region, as the text report's volume table: times in RFC 3339 UTC,
// durations in seconds (empty when unknown), config_ids joined by "+".
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	_ = cw.WriteAll(csvRows(r))
	return cw.Error()
}

// csvRows are WriteCSV's rows, without the header.
func csvRows(r Report) [][]string {
	var rows [][]string
	for _, rr := range r.Regions {
		for _, v := range rr.Volumes {
			newest, age := "", ""
			if v.Newest != nil {
				newest, age = v.Newest.Format(time.RFC3339), strconv.FormatInt(*v.AgeSeconds, 10)
			}
			rows = append(rows, []string{rr.Region, string(v.Status), v.VolumeID, v.InstanceID, inert(v.InstanceName), v.ConfigID, strings.Join(v.ConfigIDs, "+"),
				v.Frequency, newest, age, strconv.FormatInt(v.LimitSeconds, 10), strconv.Itoa(v.Counts.Count),
				strconv.Itoa(int(v.SizeGiB)), v.Reason})
		}
	}
	return rows
}

// inert keeps a value that anyone allowed to tag an instance writes (its
// Name tag) from being read as a formula by a spreadsheet: one starting
// with =, +, -, @, a tab or a carriage return gets a leading ' (OWASP,
// "CSV Injection"). In an organisation report a member account's tag
// would otherwise run in the hub operator's spreadsheet, beside every
// other account's rows.
func inert(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
