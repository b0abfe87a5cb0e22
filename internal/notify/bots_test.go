package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"custos/internal/notify"
)

// fakePlatform is a local stand-in for a chat platform's bot endpoint: it
// checks each request the way the platform documents it and answers as
// the platform does — HTTP 200 with a result code.
func fakePlatform(t *testing.T, check func(r *http.Request, body map[string]any) (code int, msg string), codeKey, msgKey string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		code, msg := 400, "not JSON"
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			code, msg = 400, "method or content type"
		} else if json.Unmarshal(raw, &body) == nil {
			code, msg = check(r, body)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{codeKey: code, msgKey: msg})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// text reads {"<outer>": {"<inner>": "…"}} from a body.
func text(body map[string]any, outer, inner string) string {
	m, _ := body[outer].(map[string]any)
	s, _ := m[inner].(string)
	return s
}

func hmacB64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

const botText = "安全告警：bulk_export — 王小明 在 10 分钟内导出 3 次"

func TestBotWeCom(t *testing.T) {
	srv := fakePlatform(t, func(r *http.Request, body map[string]any) (int, string) {
		if r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != "wecom-key-1" {
			return 93000, "invalid webhook url"
		}
		if body["msgtype"] != "text" || text(body, "text", "content") != botText || len(body) != 2 {
			return 40008, "invalid message type"
		}
		return 0, "ok"
	}, "errcode", "errmsg")
	now := time.Now()
	b := &notify.Bot{Kind: notify.BotWeCom, URL: srv.URL + "/cgi-bin/webhook/send?key=wecom-key-1"}
	if err := b.Send(context.Background(), botText, now); err != nil {
		t.Fatalf("send: %v", err)
	}
	b.URL = srv.URL + "/cgi-bin/webhook/send?key=revoked"
	err := b.Send(context.Background(), botText, now)
	if err == nil || !strings.Contains(err.Error(), "93000") || strings.Contains(err.Error(), "revoked") {
		t.Errorf("a refused delivery: %v (must name the code, never the key)", err)
	}
}

func TestBotDingTalk(t *testing.T) {
	const secret = "SEC0123456789abcdef"
	now := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	srv := fakePlatform(t, func(r *http.Request, body map[string]any) (int, string) {
		q := r.URL.Query()
		if r.URL.Path != "/robot/send" || q.Get("access_token") != "ding-token" {
			return 300001, "token is not exist"
		}
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil || ts != now.UnixMilli() || q.Get("sign") != hmacB64(secret, q.Get("timestamp")+"\n"+secret) {
			return 310000, "sign not match"
		}
		if body["msgtype"] != "text" || text(body, "text", "content") != botText {
			return 40035, "missing param"
		}
		return 0, "ok"
	}, "errcode", "errmsg")
	b := &notify.Bot{Kind: notify.BotDingTalk, URL: srv.URL + "/robot/send?access_token=ding-token", Secret: secret}
	if err := b.Send(context.Background(), botText, now); err != nil {
		t.Fatalf("send: %v", err)
	}
	b.Secret = "another secret"
	if err := b.Send(context.Background(), botText, now); err == nil || !strings.Contains(err.Error(), "310000") {
		t.Errorf("a wrong signing secret: %v", err)
	}
}

func TestBotFeishu(t *testing.T) {
	const secret = "feishu-signing-secret"
	now := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	srv := fakePlatform(t, func(r *http.Request, body map[string]any) (int, string) {
		if r.URL.Path != "/open-apis/bot/v2/hook/hook-id" {
			return 19001, "param invalid: incoming webhook access token invalid"
		}
		ts, _ := body["timestamp"].(string)
		if ts != strconv.FormatInt(now.Unix(), 10) || body["sign"] != hmacB64(ts+"\n"+secret, "") {
			return 19021, "sign match fail or timestamp is not within one hour from current time"
		}
		if body["msg_type"] != "text" || text(body, "content", "text") != botText {
			return 9499, "Bad Request"
		}
		return 0, "success"
	}, "code", "msg")
	b := &notify.Bot{Kind: notify.BotFeishu, URL: srv.URL + "/open-apis/bot/v2/hook/hook-id", Secret: secret}
	if err := b.Send(context.Background(), botText, now); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := b.Send(context.Background(), botText, now.Add(-2*time.Second)); err == nil || !strings.Contains(err.Error(), "19021") {
		t.Errorf("a stale signature: %v", err)
	}
}

// TestBotFailures: an HTTP error, an answer that is not JSON and one
// without a result code are failed deliveries (to be retried).
func TestBotFailures(t *testing.T) {
	answers := map[string]func(w http.ResponseWriter){
		"500":      func(w http.ResponseWriter) { http.Error(w, "busy", http.StatusInternalServerError) },
		"html":     func(w http.ResponseWriter) { io.WriteString(w, "<html>login</html>") },
		"no code":  func(w http.ResponseWriter) { io.WriteString(w, `{"ok":true}`) },
		"old 9499": func(w http.ResponseWriter) { io.WriteString(w, `{"StatusCode":9499,"StatusMessage":"Bad Request"}`) },
	}
	for name, answer := range answers {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w) }))
		b := &notify.Bot{Kind: notify.BotFeishu, URL: srv.URL + "/hook/secret-token"}
		if err := b.Send(context.Background(), "x", time.Now()); err == nil || strings.Contains(err.Error(), "secret-token") {
			t.Errorf("%s: %v", name, err)
		}
		srv.Close()
	}
	if err := (&notify.Bot{Kind: "slack", URL: "http://127.0.0.1:1/"}).Send(context.Background(), "x", time.Now()); err == nil {
		t.Error("an unknown platform sent")
	}
}
