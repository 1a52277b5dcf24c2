package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

const (
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
)

func addOutputFlag(cmd *cobra.Command) {
	cmd.Flags().StringP("output", "o", outputTable, "output format: table, json or yaml")
}

func outputFormat(cmd *cobra.Command) (string, error) {
	f, _ := cmd.Flags().GetString("output")
	if f != outputTable && f != outputJSON && f != outputYAML {
		return "", usagef("--output %q: expected table, json or yaml", f)
	}
	return f, nil
}

// writeStructured writes v as JSON or YAML (format is not table).
func writeStructured(w io.Writer, format string, v any) error {
	if format == outputYAML {
		return writeYAML(w, v)
	}
	return writeJSON(w, v)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeYAML writes v with the same field names and order as its JSON:
// JSON is YAML, so the JSON text decodes into a YAML node tree, which is
// then re-encoded in block style.
func writeYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("encode output as YAML: %w", err)
	}
	blockStyle(&doc)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("encode output as YAML: %w", err)
	}
	return enc.Close()
}

// blockStyle drops the flow style JSON text decodes with, and the quotes
// of strings YAML reads back as strings anyway.
func blockStyle(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Style == yaml.DoubleQuotedStyle && n.Tag == "!!str" {
		n.Style = 0
	} else if n.Kind != yaml.ScalarNode {
		n.Style = 0
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
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
