package config

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// RegisterFlags adds one flag per setting to fs (secrets excepted: a token
// on the command line shows in ps; use its SUBSYNC_* variable or a file).
// Flags keep their text: Load parses it with the other sources, so a bad
// flag value is listed with every other problem. List flags repeat
// (--namespaces a/b --namespaces c/d) and replace the file's list.
func RegisterFlags(fs *pflag.FlagSet) {
	for _, s := range settings() {
		if s.secret {
			continue
		}
		name := FlagName(s.key)
		usage := fmt.Sprintf("%s (%s, $%s)", s.doc, s.key, EnvName(s.key))
		if rest, admin := strings.CutPrefix(s.key, "admin."); admin {
			usage += fmt.Sprintf(" (default: as %s, unless admin.%s.* is set)", rest, strings.SplitN(rest, ".", 2)[0])
		}
		if s.kind() == kindList {
			fs.StringArray(name, nil, usage+"; repeat for several")
			continue
		}
		fs.Var(&textFlag{kind: s.kind(), text: s.def}, name, usage)
		if s.kind() == kindBool {
			fs.Lookup(name).NoOptDefVal = "true"
		}
	}
}

// textFlag holds a flag's text unparsed; its type shows in --help.
type textFlag struct {
	kind kind
	text string
}

func (f *textFlag) String() string { return f.text }

func (f *textFlag) Set(text string) error {
	f.text = text
	return nil
}

func (f *textFlag) Type() string {
	switch f.kind {
	case kindBool:
		return "bool"
	case kindInt:
		return "int"
	case kindDuration:
		return "duration"
	}
	return "string"
}

// fromFlags reads the flags set on the command line.
func fromFlags(fs *pflag.FlagSet) (map[string]value, []error) {
	vals := map[string]value{}
	var errs []error
	for _, s := range settings() {
		name := FlagName(s.key)
		f := fs.Lookup(name)
		if s.secret || f == nil || !f.Changed {
			continue
		}
		origin := "--" + name
		if s.kind() == kindList {
			list, err := fs.GetStringArray(name)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s (%s): %w", s.key, origin, err))
				continue
			}
			vals[s.key] = value{list: list, origin: origin}
			continue
		}
		if isBlank(s, f.Value.String()) {
			continue
		}
		vals[s.key] = value{text: f.Value.String(), origin: origin}
	}
	return vals, errs
}
