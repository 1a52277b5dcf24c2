package config

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
)

// clientLogger is the Pulsar client's logger, on slog. Unlike the
// client's own slog wrapper it turns field values into readable scalars:
// the client logs *url.URL and *net.TCPAddr values, which a JSON handler
// would print as raw Go structs ({"Scheme":"pulsar","Opaque":"",...}).
type clientLogger struct{ l *slog.Logger }

// newClientLogger returns the logger the Pulsar client is given.
func newClientLogger(l *slog.Logger) pulsarlog.Logger { return clientLogger{l} }

// routineNotices are client warnings that say nothing an operator can act
// on; they are logged at debug level. "Consumer not found while active
// consumer change": subsync's control-topic consumer is a Failover
// consumer, so the broker tells the client it is active right after it
// subscribes, and the client (v0.19) may read that notice before it has
// registered the consumer it just created. Nothing is lost: the consumer
// works the same, and subsync does not listen for those notices.
func routineNotices() []string {
	return []string{"Consumer not found while active consumer change"}
}

func (c clientLogger) SubLogger(f pulsarlog.Fields) pulsarlog.Logger {
	return clientLogger{c.l.With(fieldArgs(f)...)}
}
func (c clientLogger) WithFields(f pulsarlog.Fields) pulsarlog.Entry {
	return clientLogger{c.l.With(fieldArgs(f)...)}
}
func (c clientLogger) WithField(name string, v any) pulsarlog.Entry {
	return clientLogger{c.l.With(name, readable(v))}
}
func (c clientLogger) WithError(err error) pulsarlog.Entry { return c.WithField("error", err) }

func (c clientLogger) Debug(args ...any) { c.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (c clientLogger) Info(args ...any)  { c.log(slog.LevelInfo, fmt.Sprint(args...)) }
func (c clientLogger) Warn(args ...any)  { c.log(slog.LevelWarn, fmt.Sprint(args...)) }
func (c clientLogger) Error(args ...any) { c.log(slog.LevelError, fmt.Sprint(args...)) }

func (c clientLogger) Debugf(format string, args ...any) { c.logf(slog.LevelDebug, format, args) }
func (c clientLogger) Infof(format string, args ...any)  { c.logf(slog.LevelInfo, format, args) }
func (c clientLogger) Warnf(format string, args ...any)  { c.logf(slog.LevelWarn, format, args) }
func (c clientLogger) Errorf(format string, args ...any) { c.logf(slog.LevelError, format, args) }

// logf skips formatting the client's many debug lines when they are off.
func (c clientLogger) logf(level slog.Level, format string, args []any) {
	if level == slog.LevelDebug && !c.l.Enabled(context.Background(), level) {
		return
	}
	c.log(level, fmt.Sprintf(format, args...))
}

func (c clientLogger) log(level slog.Level, msg string) {
	if slices.Contains(routineNotices(), msg) {
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if !c.l.Enabled(ctx, level) {
		return
	}
	c.l.Log(ctx, level, msg)
}

// fieldArgs turns the client's fields into slog arguments, sorted by name
// so that lines are stable.
func fieldArgs(f pulsarlog.Fields) []any {
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]any, 0, 2*len(names))
	for _, k := range names {
		out = append(out, k, readable(f[k]))
	}
	return out
}

// readable keeps numbers, strings, booleans, durations and times as they
// are and renders anything else (addresses, message ids, errors) with its
// String or Error method, or fmt's %v.
func readable(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, time.Duration, time.Time:
		return x
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprintf("%v", v)
}
