// Package notify delivers messages out of Custos: signed webhooks and
// e-mail over SMTP. It knows nothing of what it delivers; the service
// builds the messages (anomaly alerts, without customer data) and keeps
// the outbox that retries them.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The webhook's headers. The signature covers the timestamp and the body
// ("<timestamp>.<body>"), so a receiver that refuses old timestamps cannot
// be replayed an old delivery; the delivery id lets it ignore a repeat
// (deliveries are at least once).
const (
	HeaderSignature = "X-Custos-Signature" // "sha256=" + hex HMAC-SHA256
	HeaderTimestamp = "X-Custos-Timestamp" // Unix seconds
	HeaderDelivery  = "X-Custos-Delivery"
)

// Webhook posts JSON to one URL, signed with a shared secret.
type Webhook struct {
	URL    string
	Secret []byte
	// Client sends the requests; nil is a client with a 10-second timeout
	// that follows no redirects (a redirect is a misconfiguration to fix,
	// not a reason to send alerts elsewhere).
	Client *http.Client
}

// Sign returns the signature header value of a body sent at a time.
func Sign(secret []byte, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(timestamp, 10) + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received delivery: the signature over the timestamp and
// body, and a timestamp no further than tolerance from now. Receivers in Go
// may use it; it documents what any receiver must check.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("notify: bad timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("notify: timestamp outside the tolerance (a replay?)")
	}
	if !hmac.Equal([]byte(signature), []byte(Sign(secret, ts, body))) {
		return errors.New("notify: bad signature")
	}
	return nil
}

var defaultClient = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Post sends one delivery. Any answer but 2xx is an error, to be retried.
// Errors never carry the URL (it may hold a token) nor the secret.
func (w *Webhook) Post(ctx context.Context, delivery string, body []byte, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook: bad URL")
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Custos")
	req.Header.Set(HeaderDelivery, delivery)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	client := w.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %s", withoutURL(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: answered %d", resp.StatusCode)
	}
	return nil
}

// withoutURL describes a request error without its URL.
func withoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 { // an inner error that quotes an address after all
		return "request failed"
	}
	return msg
}
