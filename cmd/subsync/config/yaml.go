package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseYAML reads a config file's settings strictly: an unknown or
// repeated key, a value of the wrong shape, an alias or a second document
// is an error naming the key and its line. Values stay text here; build
// checks them against their kind. name prefixes every origin and error.
func parseYAML(name string, data []byte) (map[string]value, []error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]value{}, nil // an empty file sets nothing
		}
		return nil, []error{fmt.Errorf("%s: not valid YAML: %v", name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, []error{fmt.Errorf("%s: expected one YAML document, found more (or trailing garbage)", name)}
	}
	p := &yamlParser{name: name, vals: map[string]value{}, sections: sectionKeys()}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if isNull(root) {
		return p.vals, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, []error{fmt.Errorf("%s:%d: expected a mapping of settings (key: value) at the top level", name, root.Line)}
	}
	p.mapping(root, "")
	return p.vals, p.errs
}

type yamlParser struct {
	name     string
	vals     map[string]value
	errs     []error
	sections map[string][]string // section path ("" = top) -> its child names
}

// sectionKeys maps every section path to the names allowed in it.
func sectionKeys() map[string][]string {
	out := map[string][]string{}
	for _, s := range settings() {
		parts := strings.Split(s.key, ".")
		for i := range parts {
			section := strings.Join(parts[:i], ".")
			if !slices.Contains(out[section], parts[i]) {
				out[section] = append(out[section], parts[i])
			}
		}
	}
	return out
}

func (p *yamlParser) fail(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, n.Line, fmt.Sprintf(format, args...)))
}

func (p *yamlParser) mapping(n *yaml.Node, section string) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			p.fail(k, "only plain keys are allowed here (no merge keys, aliases or complex keys)")
			continue
		}
		path := joinKey(section, k.Value)
		if line, dup := seen[k.Value]; dup {
			p.fail(k, "key %q appears twice (first at line %d)", path, line)
			continue
		}
		seen[k.Value] = k.Line
		p.entry(k, v, section, path)
	}
}

func joinKey(section, name string) string {
	if section == "" {
		return name
	}
	return section + "." + name
}

func (p *yamlParser) entry(k, v *yaml.Node, section, path string) {
	if v.Kind == yaml.AliasNode {
		p.fail(v, "%s: aliases (*name) are not supported; write the value out", path)
		return
	}
	if s, ok := lookupSetting(path); ok {
		p.setting(s, v)
		return
	}
	if _, isSection := p.sections[path]; isSection {
		switch {
		case isNull(v):
		case v.Kind == yaml.MappingNode:
			p.mapping(v, path)
		default:
			p.fail(v, "%s: expected a mapping of %s", path, strings.Join(p.sections[path], ", "))
		}
		return
	}
	where := "at the top level"
	if section != "" {
		where = fmt.Sprintf("under %q", section)
	}
	p.fail(k, "unknown key %q; expected %s one of: %s", path, where, strings.Join(p.sections[section], ", "))
}

func (p *yamlParser) setting(s setting, v *yaml.Node) {
	origin := fmt.Sprintf("%s:%d", p.name, v.Line)
	if isNull(v) || (v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) == "") {
		return // "key:" or key: "" leaves the default
	}
	if s.kind() != kindList {
		if v.Kind != yaml.ScalarNode {
			p.fail(v, "%s: expected %s, found %s", s.key, s.kind().expected(), nodeKind(v))
			p.vals[s.key] = value{origin: origin, invalid: true}
			return
		}
		p.vals[s.key] = value{text: v.Value, origin: origin}
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.fail(v, "%s: expected a list (- item per line, or [a, b]), found %s", s.key, nodeKind(v))
		p.vals[s.key] = value{origin: origin, invalid: true}
		return
	}
	list := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			p.fail(item, "%s: expected each item to be a string, found %s", s.key, nodeKind(item))
			p.vals[s.key] = value{origin: origin, invalid: true}
			return
		}
		list = append(list, item.Value)
	}
	p.vals[s.key] = value{list: list, origin: origin}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func nodeKind(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "null"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.AliasNode:
		return "an alias"
	}
	return "a single value"
}
