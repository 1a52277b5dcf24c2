package emulator

import "github.com/apache/pulsar-client-go/pulsar/log"

// silentLogger keeps the Pulsar client quiet in benchmarks.
type silentLogger struct{}

func (silentLogger) SubLogger(log.Fields) log.Logger         { return silentLogger{} }
func (silentLogger) WithFields(log.Fields) log.Entry         { return silentLogger{} }
func (silentLogger) WithField(string, interface{}) log.Entry { return silentLogger{} }
func (silentLogger) WithError(error) log.Entry               { return silentLogger{} }
func (silentLogger) Debug(...interface{})                    {}
func (silentLogger) Info(...interface{})                     {}
func (silentLogger) Warn(...interface{})                     {}
func (silentLogger) Error(...interface{})                    {}
func (silentLogger) Debugf(string, ...interface{})           {}
func (silentLogger) Infof(string, ...interface{})            {}
func (silentLogger) Warnf(string, ...interface{})            {}
func (silentLogger) Errorf(string, ...interface{})           {}
