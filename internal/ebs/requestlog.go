package ebs

import (
	"reflect"
	"strings"
)

// loggedFilters renders an SDK input's Filters as "name=v1|v2" items for
// the debug log (-VV), or nil when it has none. Reflection reads the
// Filters field every EC2 Describe input shares.
func loggedFilters(params any) []string {
	v := reflect.Indirect(reflect.ValueOf(params))
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName("Filters")
	if !f.IsValid() || f.Kind() != reflect.Slice {
		return nil
	}
	out := make([]string, 0, f.Len())
	for i := range f.Len() {
		item := reflect.Indirect(f.Index(i))
		name := reflect.Indirect(item.FieldByName("Name"))
		values := item.FieldByName("Values")
		var vs []string
		if values.IsValid() && values.Kind() == reflect.Slice {
			for j := range values.Len() {
				vs = append(vs, values.Index(j).String())
			}
		}
		n := ""
		if name.IsValid() {
			n = name.String()
		}
		out = append(out, n+"="+strings.Join(vs, "|"))
	}
	return out
}

// countIDs is how many ids an SDK input names (InstanceIds, VolumeIds,
// SnapshotIds, ImageIds), for the debug log: the ids themselves can be
// hundreds.
func countIDs(params any) int {
	v := reflect.Indirect(reflect.ValueOf(params))
	if v.Kind() != reflect.Struct {
		return 0
	}
	n := 0
	for _, name := range []string{"InstanceIds", "VolumeIds", "SnapshotIds", "ImageIds"} {
		if f := v.FieldByName(name); f.IsValid() && f.Kind() == reflect.Slice {
			n += f.Len()
		}
	}
	return n
}
