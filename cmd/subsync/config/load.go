package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Sources are where Load finds settings, lowest precedence first after the
// defaults: the YAML file, the environment, the flags.
type Sources struct {
	// File is the YAML file's path; empty means no file.
	File string
	// Environ is the environment as os.Environ returns it; only SUBSYNC_*
	// variables are read.
	Environ []string
	// Flags are the flags RegisterFlags added, after parsing; only flags
	// set on the command line count. Nil means none.
	Flags *pflag.FlagSet
}

// ConfigFileEnv names the config file when --config is not given; it is
// not a setting itself.
const ConfigFileEnv = "SUBSYNC_CONFIG"

// maxFileSize bounds the YAML file read into memory.
const maxFileSize = 1 << 20

// value is one setting's text as one source gave it.
type value struct {
	text   string
	list   []string
	origin string // "default", "file.yaml:12", "$SUBSYNC_X" or "--flag"
	// invalid marks a value its source already reported as malformed, so
	// that validation does not add "required" or similar on top.
	invalid bool
}

type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindDuration
	kindList
)

func (s setting) kind() kind {
	switch s.field(&Config{}).(type) {
	case *bool:
		return kindBool
	case *int:
		return kindInt
	case *time.Duration:
		return kindDuration
	case *[]string:
		return kindList
	}
	return kindString
}

func (k kind) expected() string {
	switch k {
	case kindBool:
		return "true or false"
	case kindInt:
		return "a whole number"
	case kindDuration:
		return "a duration such as 500ms, 1s or 2m"
	case kindList:
		return "a list of strings"
	}
	return "a string"
}

// Load merges defaults, file, environment and flags (later wins), then
// validates everything. The error joins every problem found, each naming
// the key, where its value came from and what was expected.
func Load(src Sources) (*Config, error) {
	vals, warnings, errs, fatal := gather(src)
	if fatal {
		return nil, errors.Join(errs...) // the rest would only echo a file that could not be read
	}
	c, buildErrs := build(vals)
	errs = append(errs, buildErrs...)
	c.Warnings = append(c.Warnings, warnings...)
	errs = append(errs, c.validate()...)
	if len(errs) == 0 {
		// The engine checks its own invariants too; ours should cover them.
		if err := c.ReplicatorConfig().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("replicator: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// gather collects every source's values; a key's later source replaces
// the earlier one.
// fatal says the file could not be read or parsed at all.
func gather(src Sources) (vals map[string]value, warnings []string, errs []error, fatal bool) {
	vals = defaults()
	if src.File != "" {
		fileVals, err := readFile(src.File)
		errs = append(errs, err...)
		fatal = fileVals == nil
		mergeInto(vals, fileVals)
	}
	envVals, warnings, envErrs := fromEnv(src.Environ)
	errs = append(errs, envErrs...)
	mergeInto(vals, envVals)
	if src.Flags != nil {
		flagVals, flagErrs := fromFlags(src.Flags)
		errs = append(errs, flagErrs...)
		mergeInto(vals, flagVals)
	}
	return vals, warnings, errs, fatal
}

func mergeInto(dst, src map[string]value) {
	for k, v := range src {
		dst[k] = v
	}
}

func defaults() map[string]value {
	vals := map[string]value{}
	for _, s := range settings() {
		if s.def != "" {
			vals[s.key] = value{text: s.def, origin: "default"}
		}
	}
	return vals
}

func readFile(path string) (map[string]value, []error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, []error{fmt.Errorf("config file: %w", err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, []error{fmt.Errorf("config file %s: %w", path, err)}
	}
	if len(data) > maxFileSize {
		return nil, []error{fmt.Errorf("config file %s: larger than %d bytes, expected a small YAML file", path, maxFileSize)}
	}
	return parseYAML(path, data)
}

// fromEnv reads SUBSYNC_* variables; unknown ones are warnings, since
// other tools may share the prefix.
func fromEnv(environ []string) (map[string]value, []string, []error) {
	byEnv := map[string]setting{}
	for _, s := range settings() {
		byEnv[EnvName(s.key)] = s
	}
	vals := map[string]value{}
	var warnings []string
	var errs []error
	for _, kv := range environ {
		name, text, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "SUBSYNC_") || name == ConfigFileEnv {
			continue
		}
		s, known := byEnv[name]
		if !known {
			warnings = append(warnings, fmt.Sprintf("environment variable %s is not a subsync setting; ignored", name))
			continue
		}
		if isBlank(s, text) {
			continue
		}
		v, err := textValue(s, text, "$"+name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vals[s.key] = v
	}
	return vals, warnings, errs
}

// isBlank: an empty scalar value leaves the key unset, in every source.
func isBlank(s setting, text string) bool {
	return s.kind() != kindList && strings.TrimSpace(text) == ""
}

// textValue reads an environment or flag value; lists are comma separated
// or, when a comma is part of an item (a regular expression like a{1,3}),
// written as a YAML flow list: [a, "b{1,3}"].
func textValue(s setting, text, origin string) (value, error) {
	if s.kind() != kindList {
		return value{text: text, origin: origin}, nil
	}
	trimmed := strings.TrimSpace(text)
	if strings.HasPrefix(trimmed, "[") {
		var list []string
		if err := yaml.Unmarshal([]byte(trimmed), &list); err != nil {
			return value{}, fmt.Errorf("%s (%s): %q is not a flow list like [a, b]: %v", s.key, origin, text, err)
		}
		return value{list: list, origin: origin}, nil
	}
	var list []string
	for item := range strings.SplitSeq(text, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return value{list: list, origin: origin}, nil
}

// build converts the merged text values into a Config, collecting every
// value that does not parse as its kind.
func build(vals map[string]value) (*Config, []error) {
	c := &Config{derived: derived{origins: map[string]string{}, unparsed: map[string]bool{}}}
	var errs []error
	for _, s := range settings() {
		v, ok := vals[s.key]
		if !ok {
			continue
		}
		if v.invalid {
			c.derived.unparsed[s.key] = true
			continue
		}
		if err := assign(c, s, v); err != nil {
			errs = append(errs, err)
			c.derived.unparsed[s.key] = true
			continue
		}
		c.derived.origins[s.key] = v.origin
	}
	c.inheritAdminBlocks(vals)
	return c, errs
}

func assign(c *Config, s setting, v value) error {
	bad := func() error {
		return fmt.Errorf("%s (%s): %q is not %s", s.key, v.origin, v.text, s.kind().expected())
	}
	switch p := s.field(c).(type) {
	case *string:
		*p = v.text
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(v.text))
		if err != nil {
			return bad()
		}
		*p = b
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(v.text))
		if err != nil {
			return bad()
		}
		*p = n
	case *time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(v.text))
		if err != nil {
			return bad()
		}
		*p = d
	case *[]string:
		*p = slices.Clone(v.list)
	}
	return nil
}

// inheritAdminBlocks gives the admin client the client's auth and TLS
// blocks unless some admin.auth.* or admin.tls.* key was set: a block is
// taken whole, never mixed field by field.
func (c *Config) inheritAdminBlocks(vals map[string]value) {
	if !anySetUnder(vals, "admin.auth.") {
		c.Admin.Auth = c.Client.Auth
		c.copyOrigins("auth.", "admin.auth.")
	} else if c.Admin.Auth.Method == "" {
		c.Admin.Auth.Method = AuthNone
	}
	if !anySetUnder(vals, "admin.tls.") {
		c.Admin.TLS = c.Client.TLS
		c.copyOrigins("tls.", "admin.tls.")
	} else if _, set := vals["admin.tls.validateHostname"]; !set {
		c.Admin.TLS.ValidateHostname = true
	}
}

func anySetUnder(vals map[string]value, prefix string) bool {
	for k := range vals {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func (c *Config) copyOrigins(from, to string) {
	copied := map[string]string{}
	for k, o := range c.derived.origins {
		if strings.HasPrefix(k, from) {
			copied[to+strings.TrimPrefix(k, from)] = o + ", inherited from " + k
		}
	}
	mergeOrigins(c.derived.origins, copied)
}

func mergeOrigins(dst, src map[string]string) {
	for k, o := range src {
		dst[k] = o
	}
}

// origin says where key's value came from, "unset" if nowhere.
func (c *Config) origin(key string) string {
	if o, ok := c.derived.origins[key]; ok {
		return o
	}
	return "unset"
}

// Peek returns one setting's merged value as text, with its origin,
// without validating the rest: the CLI reads metricsAddress this way to
// find the daemon, even when it could not read the daemon's key file.
func Peek(src Sources, key string) (text, origin string, err error) {
	s, ok := lookupSetting(key)
	if !ok {
		return "", "", fmt.Errorf("unknown setting %q", key)
	}
	vals, _, errs, _ := gather(src)
	if len(errs) > 0 {
		return "", "", errors.Join(errs...)
	}
	v := vals[s.key]
	if s.kind() == kindList {
		return strings.Join(v.list, ","), v.origin, nil
	}
	return v.text, v.origin, nil
}
