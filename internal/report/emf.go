package report

import (
	"encoding/json"
	"time"
)

// Namespace is the CloudWatch namespace of ebs-snapper's metrics.
const Namespace = "EbsSnapper"

// Figures are the counts of one run, for one region of one account (when
// Account is set) and, when ConfigID is set, one stanza. Coverage and Actions are each nil when the run did not
// compute them (a clean run computes no coverage; a report takes no
// action): a metric that was not measured is left out, never sent as 0.
type Figures struct {
	// Account is the 12-digit account id of the run's cell; "" for a
	// figure that names none.
	Account  string           `json:"account,omitempty"`
	Region   string           `json:"region"`
	ConfigID string           `json:"config_id,omitempty"`
	Coverage *CoverageFigures `json:"coverage,omitempty"`
	Actions  *ActionFigures   `json:"actions,omitempty"`
	Drills   *DrillFigures    `json:"drills,omitempty"`
}

// CoverageFigures are the RPO figures of a report (ForRegion).
type CoverageFigures struct {
	VolumesMatched int `json:"volumes_matched"`
	VolumesLate    int `json:"volumes_late"`
	VolumesMissing int `json:"volumes_missing"`
}

// ActionFigures are the outcome of a snapshot or clean run.
type ActionFigures struct {
	SnapshotsCreated int `json:"snapshots_created"`
	SnapshotsDeleted int `json:"snapshots_deleted"`
	ActionsFailed    int `json:"actions_failed"`
	// ActionsNotStarted counts actions a run never reached (stopped
	// before its deadline); not failures.
	ActionsNotStarted int `json:"actions_not_started"`
	// ThrottledCalls counts API calls AWS throttled (retried by the SDK).
	ThrottledCalls int `json:"throttled_calls"`
}

// Figures returns the coverage figures of a coverage count.
func (c Coverage) Figures() *CoverageFigures {
	return &CoverageFigures{VolumesMatched: c.Matched, VolumesLate: c.Late, VolumesMissing: c.Missing}
}

// Figures returns the report's figures: one for the region and one per
// stanza.
func (r Region) Figures() []Figures {
	out := []Figures{{Region: r.Region, Coverage: r.Coverage.Figures()}}
	for _, c := range r.ByConfig {
		out = append(out, Figures{Region: r.Region, ConfigID: c.ConfigID, Coverage: c.Figures()})
	}
	return out
}

// EMF encodes figures as CloudWatch Embedded Metric Format log lines, one
// JSON object per Figures, each ending in a newline, for a Lambda function
// to write to stdout (CloudWatch Logs extracts the metrics; no API call).
// Every metric is a Count in namespace EbsSnapper, stamped now (in
// milliseconds since the epoch, as the format requires).
//
// Dimensions: a line with a ConfigID has the one dimension set
// [Region, ConfigId]; a region-wide line has [Region] and the empty set,
// which publishes the metric with no dimension as well, so one alarm on
// VolumesLate + VolumesMissing watches every region. Only region-wide lines
// carry the empty set: stanza lines would count the same volumes twice.
// With an Account, a region-wide line's coverage metrics (VolumesMatched,
// VolumesLate, VolumesMissing) are also published with the set [Account]
// (a second directive), one series per account of an organisation: the
// per-account RPO. Not the action metrics, and not [Account, Region]:
// every series is billed as a custom metric, and a thousand accounts in
// 17 regions would be 17,000 series a metric. Every line carries the
// account as a property, which CloudWatch Logs Insights can group by.
//
// Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
// (a DimensionSet MAY be empty; at most 100 metrics per directive).
func EMF(now time.Time, figs ...Figures) []byte {
	var out []byte
	for _, f := range figs {
		doc := map[string]any{"Region": f.Region}
		dims := [][]string{{"Region"}, {}}
		if f.Account != "" {
			doc["Account"] = f.Account
		}
		if f.ConfigID != "" {
			doc["ConfigId"] = f.ConfigID
			dims = [][]string{{"Region", "ConfigId"}}
		}
		var metrics []metricDefinition
		put := func(name string, v int) {
			doc[name] = v
			metrics = append(metrics, metricDefinition{Name: name, Unit: "Count"})
		}
		if c := f.Coverage; c != nil {
			put("VolumesMatched", c.VolumesMatched)
			put("VolumesLate", c.VolumesLate)
			put("VolumesMissing", c.VolumesMissing)
		}
		if a := f.Actions; a != nil {
			put("SnapshotsCreated", a.SnapshotsCreated)
			put("SnapshotsDeleted", a.SnapshotsDeleted)
			put("ActionsFailed", a.ActionsFailed)
			put("ActionsNotStarted", a.ActionsNotStarted)
			put("ThrottledCalls", a.ThrottledCalls)
		}
		if d := f.Drills; d != nil {
			put("DrillsRun", d.DrillsRun)
			put("DrillsFailed", d.DrillsFailed)
			put("DrillVolumesSwept", d.DrillVolumesSwept)
		}
		if len(metrics) == 0 {
			continue
		}
		directives := []metricDirective{{Namespace: Namespace, Dimensions: dims, Metrics: metrics}}
		if f.Account != "" && f.ConfigID == "" && f.Coverage != nil {
			directives = append(directives, metricDirective{Namespace: Namespace, Dimensions: [][]string{{"Account"}}, Metrics: metrics[:3]})
		}
		doc["_aws"] = metadata{Timestamp: now.UnixMilli(), CloudWatchMetrics: directives}
		line, err := json.Marshal(doc)
		if err != nil {
			// Strings, ints and these structs always marshal.
			panic(err)
		}
		out = append(append(out, line...), '\n')
	}
	return out
}

// PipelineEMF encodes a fan-out's heartbeat as one EMF line: the metrics
// ValidStanzas and InvalidStanzas (Count) with the dimension Pipeline
// (snapshot, clean, replication), stamped now. The stack alarms when a
// pipeline's ValidStanzas is below 1 or missing over its period, so a
// deleted or broken stanza, an unreadable table or a fan-out that stopped
// running pages someone.
func PipelineEMF(now time.Time, pipeline string, valid, invalid int) []byte {
	line, err := json.Marshal(map[string]any{
		"Pipeline": pipeline, "ValidStanzas": valid, "InvalidStanzas": invalid,
		"_aws": metadata{Timestamp: now.UnixMilli(), CloudWatchMetrics: []metricDirective{{
			Namespace: Namespace, Dimensions: [][]string{{"Pipeline"}},
			Metrics: []metricDefinition{{Name: "ValidStanzas", Unit: "Count"}, {Name: "InvalidStanzas", Unit: "Count"}},
		}}},
	})
	if err != nil {
		// Strings, ints and these structs always marshal.
		panic(err)
	}
	return append(line, '\n')
}

type metadata struct {
	Timestamp         int64             `json:"Timestamp"`
	CloudWatchMetrics []metricDirective `json:"CloudWatchMetrics"`
}

type metricDirective struct {
	Namespace  string             `json:"Namespace"`
	Dimensions [][]string         `json:"Dimensions"`
	Metrics    []metricDefinition `json:"Metrics"`
}

type metricDefinition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}
