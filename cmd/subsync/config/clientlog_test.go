package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"

	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
)

func jsonClientLogger(level slog.Level) (pulsarlog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return newClientLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))), &buf
}

// The client's fields come out as readable JSON values, not Go structs.
func TestClientLoggerWritesReadableFields(t *testing.T) {
	l, buf := jsonClientLogger(slog.LevelInfo)
	l.SubLogger(pulsarlog.Fields{
		"remote_addr": &url.URL{Scheme: "pulsar", Host: "broker:6650"},
		"local_addr":  &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000},
	}).WithError(errors.New("boom")).WithField("consumerID", uint64(7)).Warnf("reconnecting in %d ms", 100)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %v\n%s", err, buf)
	}
	want := map[string]any{"level": "WARN", "msg": "reconnecting in 100 ms", "remote_addr": "pulsar://broker:6650",
		"local_addr": "127.0.0.1:40000", "consumerID": float64(7), "error": "boom"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %#v, want %#v (line %s)", k, line[k], v, buf)
		}
	}
}

// The client's race on a Failover consumer's first active-consumer notice
// is logged at debug level, not as a warning.
func TestClientLoggerLowersRoutineNotices(t *testing.T) {
	l, buf := jsonClientLogger(slog.LevelInfo)
	l.WithField("consumerID", 1).Warnf("Consumer not found while active consumer change")
	if buf.Len() != 0 {
		t.Errorf("logged at info level: %s", buf)
	}
	l, buf = jsonClientLogger(slog.LevelDebug)
	l.WithField("consumerID", 1).Warnf("Consumer not found while active consumer change")
	if !strings.Contains(buf.String(), `"level":"DEBUG"`) {
		t.Errorf("want a debug line, got %s", buf)
	}
	l.Warn("Connection was closed")
	if !strings.Contains(buf.String(), `"level":"WARN","msg":"Connection was closed"`) {
		t.Errorf("other warnings must stay warnings: %s", buf)
	}
}
