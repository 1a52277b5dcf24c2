package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	adminauth "github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/auth"
	"golang.org/x/time/rate"
)

// adminLimiter paces admin requests at perSecond (bursts of up to one
// second's worth); nil when perSecond is 0 (no limit).
func adminLimiter(perSecond int) *rate.Limiter {
	if perSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), perSecond)
}

// boundedProvider gives every admin REST call a deadline and caps its
// response body. pulsaradmin's own http.Client waits 5 minutes and reads
// any size: one hung call would block its topic that long, and one huge
// answer would take the daemon's memory.
type boundedProvider struct {
	adminauth.Provider
	timeout  time.Duration
	maxBytes int64
	// limiter paces every admin request (adminRate); nil: no limit.
	limiter *rate.Limiter
}

// ErrAdminResponseTooLarge is the error of a response over the cap.
var ErrAdminResponseTooLarge = errors.New("admin response too large")

func (b boundedProvider) RoundTrip(req *http.Request) (*http.Response, error) {
	if b.limiter != nil {
		// Waiting for its turn is the caller's time, not the call's: the
		// deadline starts when the request goes out.
		if err := b.limiter.Wait(req.Context()); err != nil {
			return nil, fmt.Errorf("admin %s %s: waiting for the admin request rate (adminRate): %w", req.Method, req.URL.Path, err)
		}
	}
	ctx, cancel := context.WithTimeout(req.Context(), b.timeout)
	resp, err := b.Provider.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("admin %s %s (deadline %s): %w", req.Method, req.URL.Path, b.timeout, err)
	}
	if resp.ContentLength > b.maxBytes {
		_ = resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("admin %s %s: %w: %d bytes announced, cap %d", req.Method, req.URL.Path,
			ErrAdminResponseTooLarge, resp.ContentLength, b.maxBytes)
	}
	// The deadline covers reading the body too: it ends when the body is
	// closed, not when the headers arrive.
	resp.Body = &cappedBody{ReadCloser: resp.Body, max: b.maxBytes, cancel: cancel, what: req.Method + " " + req.URL.Path}
	return resp, nil
}

// cappedBody fails the read that goes past max bytes.
type cappedBody struct {
	io.ReadCloser
	max, read int64
	cancel    context.CancelFunc
	what      string
}

func (c *cappedBody) Read(p []byte) (int, error) {
	// One byte more than the cap tells "exactly max" from "more".
	if room := c.max - c.read + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.ReadCloser.Read(p)
	c.read += int64(n)
	if over := c.read - c.max; over > 0 {
		return n - int(over), fmt.Errorf("admin %s: %w: more than %d bytes", c.what, ErrAdminResponseTooLarge, c.max)
	}
	return n, err
}

func (c *cappedBody) Close() error {
	defer c.cancel()
	return c.ReadCloser.Close()
}
