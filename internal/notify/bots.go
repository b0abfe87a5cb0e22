package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Group bots of the chat platforms Chinese teams work in. Each is a
// webhook URL an administrator copies from the group's bot settings (the
// URL holds the bot's token: a secret), with the platform's own request
// format and, where the platform signs, a signing secret:
//
//   - WeCom (企业微信) group bot: POST the URL (…/cgi-bin/webhook/send?key=…)
//     with {"msgtype":"text","text":{"content":…}}; no signature (the key is
//     the secret); answers {"errcode":0,"errmsg":"ok"}.
//   - DingTalk (钉钉) custom robot with "加签": POST the URL
//     (…/robot/send?access_token=…) with &timestamp=<ms>&sign=<s> added,
//     s = base64(HMAC-SHA256(key: secret, message: "<ms>\n<secret>")),
//     URL-encoded; body {"msgtype":"text","text":{"content":…}}; answers
//     {"errcode":0,"errmsg":"ok"}.
//   - Feishu (飞书) custom bot with 签名校验: POST the URL (…/bot/v2/hook/…)
//     with {"timestamp":"<s>","sign":<s>,"msg_type":"text","content":{"text":…}},
//     sign = base64(HMAC-SHA256(key: "<seconds>\n<secret>", message: empty));
//     answers {"code":0,"msg":"success"} (older bots: {"StatusCode":0}).
//
// A platform answers HTTP 200 with a non-zero code when it refuses (a bad
// signature, a revoked bot, a rate limit): that is a failed delivery too.

// BotKind names a platform.
type BotKind string

// The platforms.
const (
	BotWeCom    BotKind = "wecom"
	BotDingTalk BotKind = "dingtalk"
	BotFeishu   BotKind = "feishu"
)

// Bot is one group bot.
type Bot struct {
	Kind   BotKind
	URL    string // the webhook URL with its token
	Secret string // the signing secret (DingTalk, Feishu); empty: unsigned
	// Client sends the requests; nil is the webhook's client (10 s, no
	// redirects).
	Client *http.Client
}

// DingTalkSign is DingTalk's signature of a timestamp in milliseconds.
func DingTalkSign(secret string, ms int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ms, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// FeishuSign is Feishu's signature of a timestamp in seconds: the string
// to sign is the HMAC key, the message is empty (as Feishu specifies).
func FeishuSign(secret string, seconds int64) string {
	m := hmac.New(sha256.New, []byte(strconv.FormatInt(seconds, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// request builds the platform's request for a text message sent at now.
func (b *Bot) request(ctx context.Context, text string, now time.Time) (*http.Request, error) {
	target := b.URL
	var body any
	switch b.Kind {
	case BotWeCom:
		body = map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
	case BotDingTalk:
		body = map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
		if b.Secret != "" {
			u, err := url.Parse(b.URL)
			if err != nil {
				return nil, errors.New("bad URL")
			}
			q := u.Query()
			ms := now.UnixMilli()
			q.Set("timestamp", strconv.FormatInt(ms, 10))
			q.Set("sign", DingTalkSign(b.Secret, ms))
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case BotFeishu:
		m := map[string]any{"msg_type": "text", "content": map[string]string{"text": text}}
		if b.Secret != "" {
			s := now.Unix()
			m["timestamp"], m["sign"] = strconv.FormatInt(s, 10), FeishuSign(b.Secret, s)
		}
		body = m
	default:
		return nil, fmt.Errorf("unknown bot platform %q", b.Kind)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(raw))
	if err != nil {
		return nil, errors.New("bad URL")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Custos")
	return req, nil
}

// Send posts a text message. Errors name the platform and its answer,
// never the URL (it holds the bot's token) nor the secret.
func (b *Bot) Send(ctx context.Context, text string, now time.Time) error {
	req, err := b.request(ctx, text, now)
	if err != nil {
		return fmt.Errorf("%s bot: %w", b.Kind, err)
	}
	client := b.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s bot: %s", b.Kind, withoutURL(err))
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s bot: answered %d", b.Kind, resp.StatusCode)
	}
	var ans struct {
		ErrCode    *int   `json:"errcode"`
		ErrMsg     string `json:"errmsg"`
		Code       *int   `json:"code"`
		Msg        string `json:"msg"`
		StatusCode *int   `json:"StatusCode"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("%s bot: an answer that is not JSON", b.Kind)
	}
	for _, c := range []struct {
		code *int
		msg  string
	}{{ans.ErrCode, ans.ErrMsg}, {ans.Code, ans.Msg}, {ans.StatusCode, ""}} {
		if c.code != nil && *c.code != 0 {
			return fmt.Errorf("%s bot: refused with code %d: %.200s", b.Kind, *c.code, c.msg)
		}
	}
	if ans.ErrCode == nil && ans.Code == nil && ans.StatusCode == nil {
		return fmt.Errorf("%s bot: an answer without a result code", b.Kind)
	}
	return nil
}
