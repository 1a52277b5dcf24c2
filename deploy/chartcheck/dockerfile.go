package chartcheck

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Stage is one FROM ... section of a Dockerfile.
type Stage struct {
	Base, Name   string
	Instructions []Instruction
}

// Instruction is one Dockerfile instruction, continuation lines joined.
type Instruction struct {
	Command string // upper case: RUN, ENV, USER, COPY, ...
	Args    string
}

// ParseDockerfile splits a Dockerfile into stages. It understands what
// this repository's Dockerfile uses (comments, backslash continuations,
// FROM image AS name), not every parser directive.
func ParseDockerfile(r io.Reader) ([]Stage, error) {
	var stages []Stage
	var pending strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if pending.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		ins := parseInstruction(pending.String())
		pending.Reset()
		if ins.Command == "FROM" {
			stages = append(stages, fromStage(ins.Args))
			continue
		}
		if len(stages) == 0 {
			if ins.Command == "ARG" {
				continue // global build arguments may precede FROM
			}
			return nil, fmt.Errorf("%s before the first FROM", ins.Command)
		}
		last := &stages[len(stages)-1]
		last.Instructions = append(last.Instructions, ins)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("the last instruction ends in a continuation: %q", pending.String())
	}
	return stages, nil
}

func parseInstruction(text string) Instruction {
	cmd, args, _ := strings.Cut(text, " ")
	return Instruction{Command: strings.ToUpper(cmd), Args: strings.Join(strings.Fields(args), " ")}
}

func fromStage(args string) Stage {
	f := strings.Fields(args)
	s := Stage{}
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		f = f[1:] // --platform=...
	}
	if len(f) > 0 {
		s.Base = f[0]
	}
	if len(f) == 3 && strings.EqualFold(f[1], "AS") {
		s.Name = f[2]
	}
	return s
}

// Last returns the stage's last instruction of a command ("" if none).
func (s Stage) Last(command string) string {
	out := ""
	for _, ins := range s.Instructions {
		if ins.Command == command {
			out = ins.Args
		}
	}
	return out
}

// Env reports the value the stage's ENV instructions give name, as
// ENV NAME=value ... or the legacy ENV NAME value.
func (s Stage) Env(name string) (string, bool) {
	val, found := "", false
	for _, ins := range s.Instructions {
		if ins.Command != "ENV" {
			continue
		}
		first, rest, _ := strings.Cut(ins.Args, " ")
		if !strings.Contains(first, "=") {
			if first == name {
				val, found = strings.Trim(rest, `"`), true
			}
			continue
		}
		for _, kv := range strings.Fields(ins.Args) {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name {
				val, found = strings.Trim(v, `"`), true
			}
		}
	}
	return val, found
}
