package main

import (
	"io"
	"strings"
	"testing"
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
