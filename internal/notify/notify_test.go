package notify_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"custos/internal/notify"
	"custos/internal/notify/smtptest"
)

func TestWebhookSignsAndFails(t *testing.T) {
	secret := []byte("a shared secret of some length")
	now := time.Now()
	var got []string
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notify.Verify(secret, r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		got = append(got, r.Header.Get(notify.HeaderDelivery)+" "+string(body))
		w.WriteHeader(status)
	}))
	defer srv.Close()
	hook := &notify.Webhook{URL: srv.URL + "/hook/T0K3N", Secret: secret}
	if err := hook.Post(context.Background(), "7", []byte(`{"a":1}`), now); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != `7 {"a":1}` {
		t.Fatalf("received %q", got)
	}
	status = http.StatusInternalServerError
	if err := hook.Post(context.Background(), "8", []byte(`{}`), now); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("a failing endpoint: %v", err)
	}
	// A refused connection says so without the URL (its path may be a token).
	srv.Close()
	if err := hook.Post(context.Background(), "9", []byte(`{}`), now); err == nil || strings.Contains(err.Error(), "T0K3N") {
		t.Fatalf("unreachable: %v", err)
	}

	// What a receiver checks: a tampered body, another secret, an old
	// delivery, no timestamp.
	sig, stamp := notify.Sign(secret, now.Unix(), []byte("x")), strconv.FormatInt(now.Unix(), 10)
	for name, err := range map[string]error{
		"tampered":  notify.Verify(secret, stamp, sig, []byte("y"), now, time.Minute),
		"other key": notify.Verify([]byte("another"), stamp, sig, []byte("x"), now, time.Minute),
		"replayed":  notify.Verify(secret, stamp, sig, []byte("x"), now.Add(time.Hour), time.Minute),
		"no stamp":  notify.Verify(secret, "", sig, []byte("x"), now, time.Minute),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := notify.Verify(secret, stamp, sig, []byte("x"), now, time.Minute); err != nil {
		t.Errorf("a good delivery refused: %v", err)
	}
}

func TestMailerUsesSTARTTLSAndSignsIn(t *testing.T) {
	srv := smtptest.NewServer(t, true)
	m := &notify.Mailer{Addr: srv.Addr, From: "Custos <alerts@example.com>", Username: "custos", Password: "pw-secret", TLS: srv.ClientTLS}
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	if err := m.Send(context.Background(), "42", []string{"Admin <admin@example.com>", "sec@example.com"}, "安全告警: mass_view\r\nBcc: x@evil", "正文 body", now); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	got := msgs[0]
	if !got.TLS || got.User != "custos" || got.Pass != "pw-secret" || got.From != "alerts@example.com" ||
		strings.Join(got.To, ",") != "admin@example.com,sec@example.com" {
		t.Fatalf("envelope: %+v", got)
	}
	head, body, _ := strings.Cut(got.Data, "\r\n\r\n")
	if strings.Contains(head, "\nBcc:") || !strings.Contains(head, "Subject: =?utf-8?q?") || !strings.Contains(head, "Message-ID: <42.") {
		t.Fatalf("headers:\n%s", head)
	}
	text, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(body, "\r\n", ""))
	if err != nil || string(text) != "正文 body" {
		t.Fatalf("body %q: %v", text, err)
	}

	// A server that refuses the message is an error, to be retried.
	srv.RejectNext(1)
	if err := m.Send(context.Background(), "43", []string{"admin@example.com"}, "s", "b", now); err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("refused message: %v", err)
	}
	if err := m.Send(context.Background(), "44", nil, "s", "b", now); err == nil {
		t.Fatal("a message to nobody was sent")
	}
}
