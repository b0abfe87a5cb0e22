package main

import (
	"bytes"
	"context"
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
