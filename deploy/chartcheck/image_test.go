package chartcheck

import (
	"strings"
	"testing"
)

const goodDockerfile = `ARG GO=1.26
FROM golang:1.26 AS build
ENV CGO_ENABLED=0
RUN go build \
      -o /out/subsync ./cmd/subsync
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/subsync /subsync
USER 65532:65532
ENTRYPOINT ["/subsync"]
`

// The checks catch each way an image could end up needing libc or
// running as root.
func TestCheckImageRejectsUnsafeImages(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"good":           {"", "", ""},
		"root user":      {"USER 65532:65532", "USER 0", "is root"},
		"named user":     {"USER 65532:65532", "USER nonroot", "not numeric"},
		"no user":        {"USER 65532:65532\n", "", "no USER"},
		"cgo":            {"ENV CGO_ENABLED=0\n", "", "CGO_ENABLED=0"},
		"cgo on":         {"ENV CGO_ENABLED=0", "ENV CGO_ENABLED=1", "CGO_ENABLED=0"},
		"debian base":    {"gcr.io/distroless/static-debian12:nonroot", "debian:12", "distroless/static or scratch"},
		"single stage":   {"FROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /out/subsync /subsync\n", "", "stage"},
		"copied nothing": {"COPY --from=build", "COPY --from=other", "copies nothing"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			text := goodDockerfile
			if tc.from != "" {
				text = strings.Replace(text, tc.from, tc.to, 1)
			}
			stages, err := ParseDockerfile(strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			uid, problems := CheckImage(stages)
			var all []string
			for _, p := range problems {
				all = append(all, p.Error())
			}
			joined := strings.Join(all, "; ")
			if tc.want == "" {
				if len(problems) != 0 || uid != 65532 {
					t.Errorf("uid %d, problems %s; want 65532 and none", uid, joined)
				}
				return
			}
			if !strings.Contains(joined, tc.want) {
				t.Errorf("problems %q, want one saying %q", joined, tc.want)
			}
		})
	}
}

func TestParseDockerfileJoinsContinuations(t *testing.T) {
	stages, err := ParseDockerfile(strings.NewReader(goodDockerfile))
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 || stages[0].Name != "build" || stages[1].Base != "gcr.io/distroless/static-debian12:nonroot" {
		t.Fatalf("stages %+v", stages)
	}
	if got := stages[0].Last("RUN"); got != "go build -o /out/subsync ./cmd/subsync" {
		t.Errorf("RUN %q", got)
	}
}
