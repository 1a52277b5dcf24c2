package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Describe writes every setting's effective value and where it came from,
// secrets redacted: what `subsync run --check` prints.
func (c *Config) Describe(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tFROM")
	for _, s := range settings() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.key, c.render(s), c.origin(s.key))
	}
	return tw.Flush()
}

func (c *Config) render(s setting) string {
	switch p := s.field(c).(type) {
	case *string:
		if (s.secret && *p != "") || strings.HasPrefix(*p, "data:") {
			return "(redacted)"
		}
		if *p == "" {
			return "-"
		}
		return strconv.Quote(*p)
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *time.Duration:
		return p.String()
	case *[]string:
		quoted := make([]string, len(*p))
		for i, item := range *p {
			quoted[i] = strconv.Quote(item)
		}
		return "[" + strings.Join(quoted, ", ") + "]"
	}
	return "?"
}
