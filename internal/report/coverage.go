package report

import "fmt"

// Coverage counts matched volumes by status. Percent is OK over Matched
// plus InvalidStanzas, and 0 when both are 0: nothing matched is nothing
// protected, never 100 %.
type Coverage struct {
	ConfigID string  `json:"config_id,omitempty"`
	Matched  int     `json:"matched"`
	OK       int     `json:"ok"`
	Late     int     `json:"late"`
	Missing  int     `json:"missing"`
	Pending  int     `json:"pending"`
	Failed   int     `json:"failed"`
	Percent  float64 `json:"percent"`
	// InvalidStanzas (the report's headline only) counts the stored
	// stanzas that are invalid: what they would match is unknown and
	// unprotected, so each counts as one volume that is not ok.
	InvalidStanzas int `json:"invalid_stanzas,omitempty"`
}

func (c *Coverage) add(s Status) {
	c.Matched++
	switch s {
	case OK:
		c.OK++
	case Late:
		c.Late++
	case Missing:
		c.Missing++
	case Pending:
		c.Pending++
	case Failed:
		c.Failed++
	}
}

func (c *Coverage) merge(o Coverage) {
	c.Matched += o.Matched
	c.OK += o.OK
	c.Late += o.Late
	c.Missing += o.Missing
	c.Pending += o.Pending
	c.Failed += o.Failed
}

func (c *Coverage) finish() {
	c.Percent = 0
	if n := c.Matched + c.InvalidStanzas; n > 0 {
		c.Percent = float64(c.OK) * 100 / float64(n)
	}
}

// SetInvalid records the stored stanzas that failed to load (their
// messages) and lowers the headline coverage by one volume each.
func (r *Report) SetInvalid(messages []string) {
	r.InvalidStanzas = append([]string{}, messages...)
	r.Coverage.InvalidStanzas = len(messages)
	r.Coverage.finish()
}

// Unprotected says why no volume is protected, or "" when some volume is
// matched: no valid stanza at all, or stanzas that match no volume in the
// regions read. The report command exits 4 on it.
func (r Report) Unprotected() string {
	switch {
	case r.Coverage.Matched > 0:
		return ""
	case r.ValidStanzas == 0 && len(r.InvalidStanzas) > 0:
		return fmt.Sprintf("account %s has no valid configuration stanza (%d stored stanzas are invalid)", r.Account, len(r.InvalidStanzas))
	case r.ValidStanzas == 0:
		return fmt.Sprintf("account %s has no configuration stanza", r.Account)
	default:
		return fmt.Sprintf("the %d valid stanzas of account %s match no volume in the regions read", r.ValidStanzas, r.Account)
	}
}

// headline is the report's first line after "as of <time>".
func (r Report) headline() string {
	c := r.Coverage
	if why := r.Unprotected(); why != "" {
		return "no volume is protected: " + why
	}
	pct := fmt.Sprintf("%.1f%%", c.Percent)
	if c.InvalidStanzas > 0 {
		pct = fmt.Sprintf("at most %.1f%%: %d invalid stored stanzas protect nothing, each counted as one volume not ok", c.Percent, c.InvalidStanzas)
	}
	return fmt.Sprintf("%d of %d matched volumes ok (%s); late %d, missing %d, failed %d, pending %d (grace: %s)",
		c.OK, c.Matched, pct, c.Late, c.Missing, c.Failed, c.Pending, r.Grace)
}
