package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes; doc.go documents them for operators.
const (
	exitOK          = 0
	exitFailed      = 1 // failover-check: not ready; otherwise: the operation failed
	exitUsage       = 2
	exitUnreachable = 3
)

// exitError carries the exit code a command's failure maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error              { return &exitError{code: exitUsage, err: err} }
func failed(err error) error                  { return &exitError{code: exitFailed, err: err} }
func unreachable(err error) error             { return &exitError{code: exitUnreachable, err: err} }
func usagef(format string, args ...any) error { return usageError(fmt.Errorf(format, args...)) }

// errNotReady is failover-check's verdict; the report already said why.
var errNotReady = &exitError{code: exitFailed, err: errors.New("not ready for failover")}

// exitCode maps an error to its exit code. Errors without a code come from
// cobra itself (unknown command or flag, wrong number of arguments):
// usage errors.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

// printError writes err with one problem per line when it joins several.
func printError(w io.Writer, err error, cmdPath string) {
	if errors.Is(err, errNotReady) {
		return // the report said why
	}
	prefix, problems := describeError(err)
	switch {
	case len(problems) == 1 && prefix == "":
		fmt.Fprintf(w, "subsync: %v\n", problems[0])
	case len(problems) == 1:
		fmt.Fprintf(w, "subsync: %s: %v\n", prefix, problems[0])
	default:
		if prefix == "" {
			prefix = "error"
		}
		fmt.Fprintf(w, "subsync: %s (%d problems):\n", prefix, len(problems))
		for _, p := range problems {
			fmt.Fprintf(w, "  - %s\n", strings.ReplaceAll(p.Error(), "\n", "\n    "))
		}
	}
	if exitCode(err) == exitUsage && cmdPath != "" {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmdPath)
	}
}

// describeError splits err into what it is about and its individual
// problems (the leaves of errors.Join trees).
func describeError(err error) (prefix string, problems []error) {
	var ee *exitError
	if errors.As(err, &ee) {
		err = ee.err
	}
	var pe *prefixedError
	if errors.As(err, &pe) {
		prefix, err = pe.prefix, pe.err
	}
	return prefix, flatten(err)
}

func flatten(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// prefixedError says what a list of problems is about without gluing the
// prefix onto the first of them.
type prefixedError struct {
	prefix string
	err    error
}

func (p *prefixedError) Error() string { return p.prefix + ": " + p.err.Error() }
func (p *prefixedError) Unwrap() error { return p.err }
