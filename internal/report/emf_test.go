package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// emfLine is an EMF document as CloudWatch Logs reads it.
type emfLine struct {
	AWS struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

// parseEMF checks each line against the embedded metric format's rules
// (a JSON object alone on its line; _aws with an integer Timestamp and
// metric directives; every dimension a string member of the root, every
// metric a numeric member; at most 30 keys per dimension set and 100
// metrics per directive) and returns, per line, the metric values by name
// with the dimensions by name.
func parseEMF(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var docs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var root map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&root); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", sc.Text(), err)
		}
		if dec.More() {
			t.Fatalf("line %q has data after the object", sc.Text())
		}
		var l emfLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("_aws of %q: %v", sc.Text(), err)
		}
		if l.AWS.Timestamp == nil || len(l.AWS.CloudWatchMetrics) == 0 {
			t.Fatalf("line %q lacks _aws.Timestamp or CloudWatchMetrics", sc.Text())
		}
		got := map[string]any{"Timestamp": *l.AWS.Timestamp}
		for _, d := range l.AWS.CloudWatchMetrics {
			got["Namespace"] = d.Namespace
			got["Dimensions"] = fmt.Sprint(d.Dimensions)
			if len(d.Metrics) == 0 || len(d.Metrics) > 100 || len(d.Dimensions) == 0 {
				t.Errorf("directive with %d metrics and %d dimension sets", len(d.Metrics), len(d.Dimensions))
			}
			for _, set := range d.Dimensions {
				if len(set) > 30 {
					t.Errorf("dimension set %v has more than 30 keys", set)
				}
				for _, k := range set {
					v, ok := root[k].(string)
					if !ok {
						t.Errorf("dimension %s is not a string member of the root: %v", k, root[k])
					}
					got[k] = v
				}
			}
			for _, m := range d.Metrics {
				n, ok := root[m.Name].(json.Number)
				if !ok {
					t.Errorf("metric %s is not a numeric member of the root: %v", m.Name, root[m.Name])
				}
				if m.Unit != "Count" {
					t.Errorf("metric %s unit %q, want Count", m.Name, m.Unit)
				}
				v, _ := n.Int64()
				got[m.Name] = int(v)
			}
		}
		docs = append(docs, got)
	}
	return docs
}

func TestEMF(t *testing.T) {
	inv, p := fleet(t)
	p.Ignore["vol-ignored"] = true
	r := ForRegion(inv, p, Options{Now: now})
	figs := append(r.Figures(), Figures{Region: "eu-west-1", Actions: &ActionFigures{
		SnapshotsCreated: 4, SnapshotsDeleted: 3, ActionsFailed: 2, ActionsNotStarted: 1, ThrottledCalls: 7}})
	docs := parseEMF(t, EMF(now, figs...))
	if len(docs) != 3 {
		t.Fatalf("%d lines, want 3 (region coverage, stanza coverage, region actions)", len(docs))
	}
	for _, d := range docs {
		if d["Namespace"] != Namespace || d["Timestamp"] != now.UnixMilli() || d["Region"] != "eu-west-1" {
			t.Errorf("line %v: want namespace %s, timestamp %d ms, region eu-west-1", d, Namespace, now.UnixMilli())
		}
	}
	want := []map[string]any{
		{"Dimensions": "[[Region] []]", "VolumesMatched": 7, "VolumesLate": 2, "VolumesMissing": 1},
		{"Dimensions": "[[Region ConfigId]]", "ConfigId": "daily", "VolumesMatched": 7, "VolumesLate": 2, "VolumesMissing": 1},
		{"Dimensions": "[[Region] []]", "SnapshotsCreated": 4, "SnapshotsDeleted": 3, "ActionsFailed": 2, "ActionsNotStarted": 1, "ThrottledCalls": 7},
	}
	for i, w := range want {
		for k, v := range w {
			if docs[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, docs[i][k], v)
			}
		}
		// Nothing measured is sent: a coverage line has no action metric.
		for _, name := range []string{"SnapshotsCreated", "VolumesMatched"} {
			_, sent := docs[i][name]
			if _, wanted := w[name]; sent != wanted {
				t.Errorf("line %d: %s sent = %v, want %v", i, name, sent, wanted)
			}
		}
	}
	if out := EMF(now, Figures{Region: "eu-west-1"}); len(out) != 0 {
		t.Errorf("figures without a measurement gave %q, want nothing", out)
	}
}

// A cell's figures carry its account: the region-wide line publishes its
// coverage metrics with the [Account] set too (a second directive), not
// its action metrics; a stanza line names the account as a property only.
func TestEMFAccountDimension(t *testing.T) {
	inv, p := fleet(t)
	figs := ForRegion(inv, p, Options{Now: now}).Figures()
	figs[0].Actions = &ActionFigures{SnapshotsCreated: 1}
	for i := range figs {
		figs[i].Account = "222222222222"
	}
	out := EMF(now, figs...)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	var directives []string
	for _, line := range lines {
		var l struct {
			Account string
			AWS     struct{ CloudWatchMetrics []metricDirective } `json:"_aws"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		if l.Account != "222222222222" {
			t.Errorf("line without the account: %s", line)
		}
		var ds []string
		for _, d := range l.AWS.CloudWatchMetrics {
			var names []string
			for _, m := range d.Metrics {
				names = append(names, m.Name)
			}
			ds = append(ds, fmt.Sprint(d.Dimensions, names))
		}
		directives = append(directives, strings.Join(ds, " + "))
	}
	want := []string{
		"[[Region] []] [VolumesMatched VolumesLate VolumesMissing SnapshotsCreated SnapshotsDeleted ActionsFailed ActionsNotStarted ThrottledCalls] + [[Account]] [VolumesMatched VolumesLate VolumesMissing]",
		"[[Region ConfigId]] [VolumesMatched VolumesLate VolumesMissing]",
	}
	for i := range want {
		if directives[i] != want[i] {
			t.Errorf("line %d: directives\n %s\nwant\n %s", i, directives[i], want[i])
		}
	}
}
