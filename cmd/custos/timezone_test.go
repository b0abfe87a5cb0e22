package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestTimeZoneConfig reads the organisation's default time zone from
// -timezone or CUSTOS_TIMEZONE and refuses to start on a name that is no
// IANA zone, before touching the database.
func TestTimeZoneConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "flag", args: []string{"-timezone", "Asia/Shanghai"}},
		{name: "environment", env: map[string]string{"CUSTOS_TIMEZONE": "Europe/Berlin"}},
		{name: "bad flag", args: []string{"-timezone", "Mars/Olympus"}, wantErr: `timezone "Mars/Olympus"`},
		{name: "bad environment", env: map[string]string{"CUSTOS_TIMEZONE": "Local"}, wantErr: `timezone "Local"`},
		{name: "the flag wins", args: []string{"-timezone", "UTC"}, env: map[string]string{"CUSTOS_TIMEZONE": "Nowhere"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"migrate", "-data-dir", t.TempDir()}, tc.args...)
			err := run(context.Background(), args, func(k string) string { return tc.env[k] }, &out, &errb)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("migrate: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("migrate: %v, want an error about %s", err, tc.wantErr)
			}
		})
	}
}

// TestPrivacyDeadlineConfig: the privacy register's deadline comes from
// -privacy-deadline-days, else CUSTOS_PRIVACY_DEADLINE_DAYS, else 30 days;
// a value that is no number of days within a year is refused.
func TestPrivacyDeadlineConfig(t *testing.T) {
	env := func(vals map[string]string) func(string) string { return func(k string) string { return vals[k] } }
	for _, tc := range []struct {
		args    []string
		env     map[string]string
		want    int
		wantErr string
	}{
		{nil, nil, 30, ""},
		{nil, map[string]string{"CUSTOS_PRIVACY_DEADLINE_DAYS": "15"}, 15, ""},
		{[]string{"-privacy-deadline-days", "20"}, map[string]string{"CUSTOS_PRIVACY_DEADLINE_DAYS": "15"}, 20, ""},
		{nil, map[string]string{"CUSTOS_PRIVACY_DEADLINE_DAYS": "a month"}, 0, "not a whole number"},
		{[]string{"-privacy-deadline-days", "0"}, nil, 0, "between 1 and 365"},
		{[]string{"-privacy-deadline-days", "400"}, nil, 0, "between 1 and 365"},
	} {
		c, err := parseConfig("serve", tc.args, env(tc.env), io.Discard)
		switch {
		case tc.wantErr == "" && (err != nil || c.PrivacyDeadlineDays != tc.want):
			t.Errorf("%v %v: %d %v, want %d", tc.args, tc.env, c.PrivacyDeadlineDays, err, tc.want)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v %v: %v, want an error about %s", tc.args, tc.env, err, tc.wantErr)
		}
	}
}
