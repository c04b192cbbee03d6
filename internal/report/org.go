package report

import (
	"cmp"
	_ "embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/texttable"
)

// Org is the organisation view of a report: each account's coverage,
// worst first, and their sum.
type Org struct {
	Now time.Time `json:"now"`
	// Coverage sums the accounts that were read.
	Coverage Coverage `json:"coverage"`
	// Accounts are worst first (OrgAccount order).
	Accounts []OrgAccount `json:"accounts"`
}

// OrgAccount is one account of the organisation view.
type OrgAccount struct {
	Account string   `json:"account"`
	OUs     []string `json:"ous,omitempty"`
	// Coverage is the account's headline coverage (Report.Coverage).
	Coverage Coverage `json:"coverage"`
	// Outcome is "ok", "breach" (some volume late or missing),
	// "unprotected" (nothing matched), "partial" (some region could not
	// be read, or a stored stanza is invalid), "error" (the account could
	// not be read: its spoke role refused, say) or "skipped" (suspended).
	Outcome string `json:"outcome"`
	// Error and Fix say why the account could not be read, and what to do.
	Error string `json:"error,omitempty"`
	Fix   string `json:"fix,omitempty"`
	// Report is the account's whole report, when it was read.
	Report *Report `json:"report,omitempty"`
}

// Outcomes of OrgAccount, worst first: the order of the view.
var orgRank = map[string]int{"error": 0, "breach": 1, "partial": 2, "unprotected": 3, "ok": 4, "skipped": 5}

// AccountOf is the OrgAccount of a report that was read.
func AccountOf(r Report, ous []string) OrgAccount {
	a := OrgAccount{Account: r.Account, OUs: ous, Coverage: r.Coverage, Report: &r, Outcome: "ok"}
	switch {
	case r.Breach():
		a.Outcome = "breach"
	case r.Verdict().Failed():
		a.Outcome = "partial"
	case r.Unprotected() != "":
		a.Outcome = "unprotected"
	}
	return a
}

// NewOrg sorts accounts worst first (by outcome, then more late and
// missing volumes, then lower coverage, then id) and sums their coverage.
func NewOrg(now time.Time, accounts []OrgAccount) Org {
	o := Org{Now: now.UTC(), Accounts: accounts}
	slices.SortFunc(o.Accounts, func(a, b OrgAccount) int {
		return cmp.Or(
			cmp.Compare(orgRank[a.Outcome], orgRank[b.Outcome]),
			cmp.Compare(b.Coverage.Late+b.Coverage.Missing, a.Coverage.Late+a.Coverage.Missing),
			cmp.Compare(a.Coverage.Percent, b.Coverage.Percent),
			strings.Compare(a.Account, b.Account))
	})
	for _, a := range o.Accounts {
		o.Coverage.merge(a.Coverage)
		o.Coverage.InvalidStanzas += a.Coverage.InvalidStanzas
	}
	o.Coverage.finish()
	return o
}

// Breach says whether a volume of some account is late or missing.
func (o Org) Breach() bool { return o.Coverage.Late+o.Coverage.Missing > 0 }

// Count returns how many accounts have the outcome.
func (o Org) Count(outcome string) int {
	n := 0
	for _, a := range o.Accounts {
		if a.Outcome == outcome {
			n++
		}
	}
	return n
}

// headline is the view's first line.
func (o Org) headline() string {
	c := o.Coverage
	return fmt.Sprintf("%d accounts: %d of %d matched volumes ok (%.1f%%); late %d, missing %d; %d accounts could not be read, %d skipped",
		len(o.Accounts), c.OK, c.Matched, c.Percent, c.Late, c.Missing, o.Count("error"), o.Count("skipped"))
}

// WriteOrgText writes the headline and one row per account, worst first;
// with details, each read account's own report follows under its
// heading.
func WriteOrgText(w io.Writer, o Org, width int, details bool) error {
	fmt.Fprintf(w, "organisation report as of %s\n%s\n\n", o.Now.Format(time.RFC3339), o.headline())
	tw := texttable.NewWidth(w, width)
	fmt.Fprintln(tw, "ACCOUNT\tOUS\tOUTCOME\tCOVERAGE\tOK\tLATE\tMISSING\tFAILED\tPENDING\tNOTE")
	for _, a := range o.Accounts {
		c := a.Coverage
		note := a.Error
		if a.Fix != "" {
			note += "; fix: " + a.Fix
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f%%\t%d\t%d\t%d\t%d\t%d\t%s\n", a.Account, dashed(strings.Join(a.OUs, "/")), a.Outcome,
			c.Percent, c.OK, c.Late, c.Missing, c.Failed, c.Pending, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !details {
		return nil
	}
	for _, a := range o.Accounts {
		if a.Report == nil {
			continue
		}
		fmt.Fprintf(w, "\n=== account %s\n", a.Account)
		if err := WriteTextWidth(w, *a.Report, width); err != nil {
			return err
		}
	}
	return nil
}

func dashed(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteOrgCSV writes WriteCSV's rows with the account first, and one row
// (status "error" or "skipped", the error as reason) for each account
// that could not be read.
func WriteOrgCSV(w io.Writer, o Org) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(append([]string{"account"}, csvHeader...))
	for _, a := range o.Accounts {
		if a.Report == nil {
			row := make([]string, len(csvHeader)+1)
			row[0], row[2], row[1+slices.Index(csvHeader, "reason")] = a.Account, a.Outcome, strings.TrimSuffix(a.Error+"; fix: "+a.Fix, "; fix: ")
			_ = cw.Write(row)
			continue
		}
		for _, row := range csvRows(*a.Report) {
			_ = cw.Write(append([]string{a.Account}, row...))
		}
	}
	cw.Flush()
	return cw.Error()
}

//go:embed org.html.tmpl
var orgPageText string

var orgPage = template.Must(template.New("org").Funcs(template.FuncMap{
	"stamp": func(t time.Time) string { return t.Format(time.RFC3339) },
	"pct":   func(f float64) string { return fmt.Sprintf("%.1f%%", f) },
	"join":  strings.Join,
}).Parse(orgPageText))

// orgHTML is what the organisation page reads.
type orgHTML struct {
	Org
	Headline string
	// Attention are the late and missing volumes of every account.
	Attention []orgVolume
}

type orgVolume struct {
	Account, Region string
	Volume
}

// WriteOrgHTML writes the organisation view as one self-contained page
// (inline CSS, no script): the headline, a row per account worst first
// with its coverage bar, then every late or missing volume with its
// account and region.
func WriteOrgHTML(w io.Writer, o Org) error {
	p := orgHTML{Org: o, Headline: o.headline()}
	for _, a := range o.Accounts {
		if a.Report == nil {
			continue
		}
		for _, rr := range a.Report.Regions {
			for _, v := range rr.Volumes {
				if v.Status.Breach() {
					p.Attention = append(p.Attention, orgVolume{Account: a.Account, Region: rr.Region, Volume: v})
				}
			}
		}
	}
	return orgPage.Execute(w, p)
}
