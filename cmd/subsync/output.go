package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

const (
	outputTable = "table"
	outputJSON  = "json"
)

func addOutputFlag(cmd *cobra.Command) {
	cmd.Flags().StringP("output", "o", outputTable, "output format: table or json")
}

func outputFormat(cmd *cobra.Command) (string, error) {
	f, _ := cmd.Flags().GetString("output")
	if f != outputTable && f != outputJSON {
		return "", usagef("--output %q: expected table or json", f)
	}
	return f, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns; call flush when done.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, headers ...any) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(headers...)
	return t
}

func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprintln(t.tw)
}

func (t *table) flush() error { return t.tw.Flush() }

// ago renders t relative to now: "never" for the zero time.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + (-d).Round(time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String() + " ago"
}

func seconds(s float64) string {
	return strconv.FormatFloat(s, 'f', 3, 64) + "s"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
