package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// JSON prints v as indented JSON.
func (c *Cmd) JSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.Env.Stdout, "%s\n", b)
	return err
}

// Table prints rows under a header, aligned in columns. Empty cells show
// as "-".
func (c *Cmd) Table(header []string, rows [][]string) error {
	w := tabwriter.NewWriter(c.Env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, v := range r {
			if v == "" {
				v = "-"
			}
			cells[i] = v
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return w.Flush()
}

// Fields prints name/value pairs, one a line, skipping empty values.
func (c *Cmd) Fields(pairs ...[2]string) error {
	w := tabwriter.NewWriter(c.Env.Stdout, 0, 4, 2, ' ', 0)
	for _, p := range pairs {
		if p[1] != "" {
			fmt.Fprintf(w, "%s:\t%s\n", p[0], p[1])
		}
	}
	return w.Flush()
}

// Print prints a line of text (table output only; JSON output stays JSON).
func (c *Cmd) Print(format string, args ...any) {
	if !c.JSONOutput() {
		fmt.Fprintf(c.Env.Stdout, format+"\n", args...)
	}
}

// Time formats a timestamp for a table ("" for zero), with a relative hint.
func Time(t time.Time, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000Z")
	d := now.Sub(t).Round(time.Second)
	switch {
	case d >= 0:
		return s + " (" + d.String() + " ago)"
	default:
		return s + " (in " + (-d).String() + ")"
	}
}
