package replicator

import "github.com/apache/pulsar-client-go/pulsar/log"

// pulsarLogger silences the Pulsar client in tests.
type pulsarLogger struct{}

func (pulsarLogger) SubLogger(log.Fields) log.Logger         { return pulsarLogger{} }
func (pulsarLogger) WithFields(log.Fields) log.Entry         { return pulsarLogger{} }
func (pulsarLogger) WithField(string, interface{}) log.Entry { return pulsarLogger{} }
func (pulsarLogger) WithError(error) log.Entry               { return pulsarLogger{} }
func (pulsarLogger) Debug(...interface{})                    {}
func (pulsarLogger) Info(...interface{})                     {}
func (pulsarLogger) Warn(...interface{})                     {}
func (pulsarLogger) Error(...interface{})                    {}
func (pulsarLogger) Debugf(string, ...interface{})           {}
func (pulsarLogger) Infof(string, ...interface{})            {}
func (pulsarLogger) Warnf(string, ...interface{})            {}
func (pulsarLogger) Errorf(string, ...interface{})           {}
