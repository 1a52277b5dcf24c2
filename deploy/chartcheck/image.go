package chartcheck

import (
	"fmt"
	"strconv"
	"strings"
)

// CheckImage checks a parsed Dockerfile: a build stage compiles subsync
// with CGO_ENABLED=0; the final stage is a minimal base (distroless
// static or scratch) that copies the binary from a build stage and runs as
// a numbered non-root user, whose uid it returns.
func CheckImage(stages []Stage) (uid int64, problems []error) {
	if len(stages) < 2 {
		return 0, []error{fmt.Errorf("%d stage(s); want a build stage and a runtime stage", len(stages))}
	}
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.Base, "gcr.io/distroless/static") && final.Base != "scratch" {
		problems = append(problems, fmt.Errorf("final stage is based on %s, want distroless/static or scratch (no libc, no shell)", final.Base))
	}
	problems = append(problems, checkBuild(stages[:len(stages)-1], final)...)
	user := final.Last("USER")
	name, _, _ := strings.Cut(user, ":")
	n, err := strconv.ParseInt(name, 10, 64)
	switch {
	case user == "":
		problems = append(problems, fmt.Errorf("final stage has no USER: it would run as root"))
	case err != nil:
		problems = append(problems, fmt.Errorf("USER %s is not numeric: Kubernetes' runAsNonRoot cannot verify a name", user))
	case n == 0:
		problems = append(problems, fmt.Errorf("USER %s is root", user))
	}
	return n, problems
}

// checkBuild finds the stage that runs go build and checks it builds
// without cgo and that the final stage copies from it.
func checkBuild(builds []Stage, final Stage) []error {
	for _, s := range builds {
		for _, ins := range s.Instructions {
			if ins.Command != "RUN" || !strings.Contains(ins.Args, "go build") {
				continue
			}
			var problems []error
			if v, ok := s.Env("CGO_ENABLED"); (!ok || v != "0") && !strings.Contains(ins.Args, "CGO_ENABLED=0") {
				problems = append(problems, fmt.Errorf("stage %s runs go build without CGO_ENABLED=0: the binary would need libc", s.Name))
			}
			copied := false
			for _, c := range final.Instructions {
				copied = copied || (c.Command == "COPY" && s.Name != "" && strings.Contains(c.Args, "--from="+s.Name))
			}
			if !copied {
				problems = append(problems, fmt.Errorf("the final stage copies nothing from build stage %q", s.Name))
			}
			return problems
		}
	}
	return []error{fmt.Errorf("no stage runs go build")}
}
