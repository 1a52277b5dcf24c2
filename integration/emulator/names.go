package emulator

import (
	"fmt"
	"strconv"
	"strings"
)

const partitionSuffix = "-partition-"

// topicName is a parsed "persistent://tenant/namespace/local" name.
type topicName struct {
	full      string // canonical, with the partition suffix when a partition
	tenant    string
	namespace string // "tenant/ns"
	local     string // the local part, with the partition suffix
	partition int    // -1 when not a partition of a partitioned topic
}

// parseTopic accepts what clients and pulsaradmin send: a full
// persistent:// name, or a short "topic" / "tenant/ns/topic" name.
func parseTopic(s string) (topicName, error) {
	rest := s
	switch {
	case strings.HasPrefix(s, "persistent://"):
		rest = strings.TrimPrefix(s, "persistent://")
	case strings.HasPrefix(s, "non-persistent://"):
		return topicName{}, fmt.Errorf("topic %q: non-persistent topics are not emulated", s)
	case strings.Contains(s, "://"):
		return topicName{}, fmt.Errorf("topic %q: unknown domain, expected persistent://", s)
	case !strings.Contains(s, "/"):
		rest = "public/default/" + s
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return topicName{}, fmt.Errorf("topic %q: expected persistent://tenant/namespace/topic", s)
	}
	t := topicName{
		full:      "persistent://" + rest,
		tenant:    parts[0],
		namespace: parts[0] + "/" + parts[1],
		local:     parts[2],
		partition: -1,
	}
	if i := strings.LastIndex(t.local, partitionSuffix); i > 0 {
		if n, err := strconv.Atoi(t.local[i+len(partitionSuffix):]); err == nil && n >= 0 {
			t.partition = n
		}
	}
	return t, nil
}

func partitionName(base string, i int) string {
	return base + partitionSuffix + strconv.Itoa(i)
}
