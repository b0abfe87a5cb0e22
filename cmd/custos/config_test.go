package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custos/internal/notify"
)

// TestRetentionConfig: the recycle bin's and the audit trail's retention
// come from their flags, else their variables, else 90 days and 10 years;
// values outside their range stop start-up with the setting's name.
func TestRetentionConfig(t *testing.T) {
	env := func(vals map[string]string) func(string) string { return func(k string) string { return vals[k] } }
	for _, tc := range []struct {
		args          []string
		env           map[string]string
		days, years   int
		wantErrorWith string
	}{
		{nil, nil, 90, 10, ""},
		{nil, map[string]string{"CUSTOS_RECYCLE_DAYS": "30", "CUSTOS_AUDIT_RETENTION_YEARS": "0"}, 30, 0, ""},
		{[]string{"-recycle-days", "7", "-audit-retention-years", "3"}, map[string]string{"CUSTOS_RECYCLE_DAYS": "30"}, 7, 3, ""},
		{[]string{"-recycle-days", "0"}, nil, 0, 0, "recycle-days"},
		{nil, map[string]string{"CUSTOS_RECYCLE_DAYS": "ninety"}, 0, 0, "CUSTOS_RECYCLE_DAYS"},
		{[]string{"-audit-retention-years", "-1"}, nil, 0, 0, "audit-retention-years"},
		{nil, map[string]string{"CUSTOS_AUDIT_RETENTION_YEARS": "1000"}, 0, 0, "audit-retention-years"},
	} {
		c, err := parseConfig("serve", tc.args, env(tc.env), io.Discard)
		if tc.wantErrorWith != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErrorWith) {
				t.Errorf("%v %v: error %v, want one naming %s", tc.args, tc.env, err, tc.wantErrorWith)
			}
			continue
		}
		if err != nil || c.RecycleDays != tc.days || c.AuditRetentionYears != tc.years {
			t.Errorf("%v %v: %d days, %d years, %v; want %d, %d", tc.args, tc.env, c.RecycleDays, c.AuditRetentionYears, err, tc.days, tc.years)
		}
	}
}

// TestAlertDeliveryConfig: the webhook and SMTP settings come from flags
// and CUSTOS_* variables, secrets from the environment or a file; a webhook
// without a secret, SMTP without a sender and bad addresses are refused,
// and no error repeats a secret.
func TestAlertDeliveryConfig(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(secretFile, []byte("mail-pass-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(vals map[string]string) func(string) string { return func(k string) string { return vals[k] } }
	c, err := parseConfig("serve", []string{"-smtp-username", "custos", "-alert-email-to", "sec@example.com, ciso@example.com"}, env(map[string]string{
		"CUSTOS_ALERT_WEBHOOK_URL": "https://hooks.example.com/custos", "CUSTOS_ALERT_WEBHOOK_SECRET": "0123456789abcdef-secret",
		"CUSTOS_SMTP_ADDR": "smtp.example.com:587", "CUSTOS_SMTP_FROM": "Custos <custos@example.com>",
		"CUSTOS_SMTP_PASSWORD_FILE": secretFile}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d := c.alertDelivery()
	if d.Webhook == nil || string(d.Webhook.Secret) != "0123456789abcdef-secret" || d.Mail == nil || d.Mail.Password != "mail-pass-from-file" ||
		d.Mail.Username != "custos" || strings.Join(d.MailTo, ",") != "sec@example.com,ciso@example.com" {
		t.Fatalf("delivery: %+v %+v %v", d.Webhook, d.Mail, d.MailTo)
	}
	if none, err := parseConfig("serve", nil, env(nil), io.Discard); err != nil || none.alertDelivery().Webhook != nil || none.alertDelivery().Mail != nil ||
		len(none.alertDelivery().Bots) != 0 {
		t.Fatalf("nothing configured: %v", err)
	}
	// Group bots, from the environment only (their URLs hold tokens).
	botFile := filepath.Join(t.TempDir(), "feishu-secret")
	if err := os.WriteFile(botFile, []byte("feishu-sign-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = parseConfig("serve", nil, env(map[string]string{
		"CUSTOS_ALERT_WECOM_URL":    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1",
		"CUSTOS_ALERT_DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t1", "CUSTOS_ALERT_DINGTALK_SECRET": "SECding",
		"CUSTOS_ALERT_FEISHU_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/h1", "CUSTOS_ALERT_FEISHU_SECRET_FILE": botFile}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	bots := c.alertDelivery().Bots
	if len(bots) != 3 || bots[0].Kind != notify.BotWeCom || bots[1].Secret != "SECding" || bots[2].Kind != notify.BotFeishu || bots[2].Secret != "feishu-sign-secret" {
		t.Fatalf("bots: %+v", bots)
	}
	if len(c.notifyOptions().Bots) != 0 || c.notifyOptions().Mail != nil {
		t.Fatalf("alert bots taken for notifications: %+v", c.notifyOptions())
	}
	// Notification bots are a group of their own, read the same way; the
	// notification e-mail uses the alert SMTP server.
	c, err = parseConfig("serve", []string{"-smtp-addr", "smtp.example.com:25", "-smtp-from", "custos@example.com"}, env(map[string]string{
		"CUSTOS_NOTIFY_DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t2", "CUSTOS_NOTIFY_DINGTALK_SECRET": "SECteam"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.notifyOptions(); len(n.Bots) != 1 || n.Bots[0].Kind != notify.BotDingTalk || n.Bots[0].Secret != "SECteam" || n.Mail == nil ||
		n.Mail.Addr != "smtp.example.com:25" || len(c.alertDelivery().Bots) != 0 {
		t.Fatalf("notification channels: %+v", n)
	}
	if _, err := parseConfig("serve", nil, env(map[string]string{"CUSTOS_NOTIFY_FEISHU_URL": "open.feishu.cn/hook/secret-h"}), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "CUSTOS_NOTIFY_FEISHU_URL must be an http(s)://") || strings.Contains(err.Error(), "secret-h") {
		t.Errorf("a notification bot URL without a scheme: %v", err)
	}
	if _, err := parseConfig("serve", nil, env(map[string]string{"CUSTOS_ALERT_DINGTALK_URL": "oapi.dingtalk.com/robot/send?access_token=secret-t"}), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "CUSTOS_ALERT_DINGTALK_URL must be an http(s)://") || strings.Contains(err.Error(), "secret-t") {
		t.Errorf("a bot URL without a scheme: %v", err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-alert-webhook-url", "https://hooks.example.com/x"}, map[string]string{"CUSTOS_ALERT_WEBHOOK_SECRET": "short-secret"}, "at least 16"},
		{[]string{"-alert-webhook-url", "ftp://hooks.example.com/x"}, map[string]string{"CUSTOS_ALERT_WEBHOOK_SECRET": "0123456789abcdef-secret"}, "http(s)://"},
		{[]string{"-smtp-addr", "smtp.example.com"}, map[string]string{"CUSTOS_SMTP_FROM": "custos@example.com"}, "host:port"},
		{[]string{"-smtp-addr", "smtp.example.com:25"}, nil, "smtp-from"},
		{[]string{"-smtp-addr", "smtp.example.com:25", "-smtp-from", "custos@example.com", "-alert-email-to", "not an address"}, nil, "alert-email-to"},
		{[]string{"-smtp-from", "custos@example.com"}, nil, "need smtp-addr"},
		{[]string{"-smtp-addr", "smtp.example.com:25", "-smtp-from", "custos@example.com"}, map[string]string{"CUSTOS_SMTP_PASSWORD": "pw-no-user"}, "needs smtp-username"},
	} {
		_, err := parseConfig("serve", tc.args, env(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want %q", tc.args, tc.env, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "short-secret") || strings.Contains(err.Error(), "pw-no-user")) {
			t.Errorf("an error repeats a secret: %v", err)
		}
	}
}

// TestDrillLitestreamConfig: a scheduled drill of a Litestream replica is
// for SQLite only and needs a drill period; the command comes from
// CUSTOS_LITESTREAM_BIN, else litestream on the PATH.
func TestDrillLitestreamConfig(t *testing.T) {
	env := func(vals map[string]string) func(string) string { return func(k string) string { return vals[k] } }
	c, err := parseConfig("serve", []string{"-drill-litestream", "file:///replica"}, env(map[string]string{"CUSTOS_LITESTREAM_BIN": "/opt/litestream"}), io.Discard)
	if err != nil || c.DrillLitestream != "file:///replica" || c.LitestreamBin != "/opt/litestream" {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err = parseConfig("serve", nil, env(map[string]string{"CUSTOS_DRILL_LITESTREAM": "file:///r"}), io.Discard); err != nil || c.LitestreamBin != "litestream" || c.DrillLitestream != "file:///r" {
		t.Fatalf("%+v %v", c, err)
	}
	for _, args := range [][]string{
		{"-drill-litestream", "file:///replica", "-database", "postgres://postgres@127.0.0.1:5432/x"},
		{"-drill-litestream", "file:///replica", "-drill-every", "0"},
	} {
		if _, err := parseConfig("serve", args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "drill-litestream") {
			t.Errorf("%v: %v, want an error naming drill-litestream", args, err)
		}
	}
}
