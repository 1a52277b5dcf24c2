package replicator

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/subsync/subsync/ackset"
)

// EntryFetcher reads one entry as Pulsar's admin API serves it
// (GET /admin/v2/persistent/{tenant}/{ns}/{topic}/ledger/{l}/entry/{e}):
// the entry-level metadata in headers and the uncompressed payload (for a
// batch, its members) as the body.
type EntryFetcher interface {
	FetchEntry(ctx context.Context, topic string, pos ackset.Position) (http.Header, []byte, error)
}

// HTTPEntries fetches entries over HTTP. pulsaradmin's own call cannot
// serve: it merges every batch member's properties into the entry's map,
// so an application property named like the stamp overrides the broker's.
type HTTPEntries struct {
	// WebServiceURL is the admin REST URL ("http://broker:8080").
	WebServiceURL string
	// Client sends the requests (its transport adds authentication); nil:
	// a client with entryFetchTimeout.
	Client *http.Client
}

// maxEntryBytes bounds an entry body: Pulsar's default maxMessageSize is
// 5 MiB, and a batch is one message on the wire.
const maxEntryBytes = 8 << 20

const entryFetchTimeout = 10 * time.Second

// FetchEntry implements EntryFetcher.
func (h HTTPEntries) FetchEntry(ctx context.Context, topic string, pos ackset.Position) (http.Header, []byte, error) {
	rest, ok := strings.CutPrefix(topic, "persistent://")
	if !ok {
		return nil, nil, fmt.Errorf("entry %s of %s: not a persistent topic", pos, topic)
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("entry %s of %s: expected persistent://tenant/ns/topic", pos, topic)
	}
	u := strings.TrimSuffix(h.WebServiceURL, "/") + "/admin/v2/persistent/" + url.PathEscape(parts[0]) + "/" +
		url.PathEscape(parts[1]) + "/" + url.PathEscape(parts[2]) + "/ledger/" +
		strconv.FormatInt(pos.Ledger, 10) + "/entry/" + strconv.FormatInt(pos.Entry, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("entry %s of %s: %w", pos, topic, err)
	}
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: entryFetchTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("entry %s of %s: %w", pos, topic, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEntryBytes+1))
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("entry %s of %s: reading body: %w", pos, topic, err)
	case resp.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("entry %s of %s: HTTP %d: %.200s", pos, topic, resp.StatusCode, body)
	case len(body) > maxEntryBytes:
		return nil, nil, fmt.Errorf("entry %s of %s: body over %d bytes", pos, topic, maxEntryBytes)
	}
	return resp.Header, body, nil
}

// Why an entry's stamp is not used; each is a label of
// tail_stamps_refused_total.
const (
	stampMissing       = "no_stamp"
	stampAmbiguous     = "ambiguous_stamp"
	stampInMember      = "stamp_in_batch_member"
	stampBatchUnread   = "batch_unreadable"
	stampChunked       = "chunked"
	stampNotBatch      = "not_a_batch"
	stampFetchFailed   = "fetch_failed"
	propertyJSONHeader = "X-Pulsar-PROPERTY"
	propertyKeyPrefix  = "x-pulsar-property-"
)

// stampRefusals are every reason tail_stamps_refused_total is counted
// with, created at zero with each topic.
var stampRefusals = []string{stampMissing, stampAmbiguous, stampInMember, stampBatchUnread, stampChunked,
	stampNotBatch, stampFetchFailed}

// batchEntryStamp reads the source-position stamp of a batched entry from
// the admin API's answer, or says why it must not be used.
//
// The entry-level properties come in one of two forms: Pulsar 3.1+
// (PIP-279) sends one header X-Pulsar-PROPERTY holding a JSON object;
// 3.0.x sends a header X-Pulsar-PROPERTY-<key> per property, whose name Go
// canonicalises, so keys match case-insensitively. Both are read; more
// than one distinct value is ambiguous. Then the body, the uncompressed
// batch (the broker decodes it), is parsed: a member carrying a property
// of the stamp's name, or a body that does not parse as exactly
// X-Pulsar-num-batch-message members (encrypted, or not what Pulsar
// sends), leaves the entry unmapped: when in doubt, do not map.
func batchEntryStamp(h http.Header, body []byte) (string, string) {
	if h.Get("X-Pulsar-num-chunks-from-msg") != "" {
		return "", stampChunked
	}
	n, err := strconv.Atoi(h.Get("X-Pulsar-num-batch-message"))
	if err != nil || n < 1 {
		return "", stampNotBatch
	}
	stamp, reason := entryProperty(h, SourcePositionProperty)
	if reason != "" {
		return "", reason
	}
	if strings.EqualFold(h.Get("X-Pulsar-Is-Encrypted"), "true") {
		return "", stampBatchUnread
	}
	carried, err := membersCarry(body, n, SourcePositionProperty)
	switch {
	case err != nil:
		return "", stampBatchUnread
	case carried:
		return "", stampInMember
	}
	return stamp, ""
}

// entryProperty returns the one value of an entry-level property.
func entryProperty(h http.Header, key string) (string, string) {
	var values []string
	for _, raw := range h.Values(propertyJSONHeader) {
		var props map[string]string
		if err := json.Unmarshal([]byte(raw), &props); err != nil {
			return "", stampAmbiguous
		}
		for k, v := range props {
			if strings.EqualFold(k, key) {
				values = append(values, v)
			}
		}
	}
	for name, vs := range h {
		if k, ok := cutPrefixFold(name, propertyKeyPrefix); ok && strings.EqualFold(k, key) {
			values = append(values, vs...)
		}
	}
	if len(values) == 0 {
		return "", stampMissing
	}
	for _, v := range values[1:] {
		if v != values[0] {
			return "", stampAmbiguous
		}
	}
	return values[0], ""
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

var errBatchFormat = errors.New("not a batch of the announced size")

// membersCarry parses an uncompressed batch, n times
// [u32 size][SingleMessageMetadata][payload], and reports whether any
// member has a property named key (case-insensitively).
func membersCarry(body []byte, n int, key string) (bool, error) {
	carried := false
	for range n {
		if len(body) < 4 {
			return false, errBatchFormat
		}
		size := binary.BigEndian.Uint32(body)
		body = body[4:]
		if uint64(size) > uint64(len(body)) {
			return false, errBatchFormat
		}
		has, payloadSize, err := memberMetadata(body[:size], key)
		if err != nil {
			return false, err
		}
		body = body[size:]
		if payloadSize > uint64(len(body)) {
			return false, errBatchFormat
		}
		body = body[payloadSize:]
		carried = carried || has
	}
	if len(body) != 0 {
		return false, errBatchFormat
	}
	return carried, nil
}

// SingleMessageMetadata field numbers (PulsarApi.proto).
const (
	smmProperties  = 1
	smmPayloadSize = 3
	keyValueKey    = 1
)

// memberMetadata reads a SingleMessageMetadata: whether a property is
// named key, and the member's payload size (a required field).
func memberMetadata(b []byte, key string) (bool, uint64, error) {
	has, sized := false, false
	var payloadSize uint64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false, 0, errBatchFormat
		}
		b = b[n:]
		switch {
		case num == smmProperties && typ == protowire.BytesType:
			kv, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return false, 0, errBatchFormat
			}
			k, err := keyValueKeyOf(kv)
			if err != nil {
				return false, 0, err
			}
			has = has || strings.EqualFold(k, key)
			n = m
		case num == smmPayloadSize && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 || int32(v) < 0 {
				return false, 0, errBatchFormat
			}
			payloadSize, sized, n = uint64(int32(v)), true, m
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return false, 0, errBatchFormat
		}
		b = b[n:]
	}
	if !sized {
		return false, 0, errBatchFormat
	}
	return has, payloadSize, nil
}

// keyValueKeyOf reads the key of a KeyValue message.
func keyValueKeyOf(b []byte) (string, error) {
	key := ""
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", errBatchFormat
		}
		b = b[n:]
		if num == keyValueKey && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return "", errBatchFormat
			}
			key, n = string(v), m
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return "", errBatchFormat
		}
		b = b[n:]
	}
	return key, nil
}
