package backup

import (
	"slices"
	"testing"
	"time"
)

// TestKeep: 7 daily, 4 weekly, 12 monthly out of a year and a half of
// daily backups, and the newest always.
func TestKeep(t *testing.T) {
	start := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC) // a Monday
	var times []time.Time
	for d := range 540 {
		times = append(times, start.AddDate(0, 0, -d))
	}
	got := kept(times, DefaultKeep)
	var days []string
	for i, k := range got {
		if k {
			days = append(days, times[i].Format("2006-01-02"))
		}
	}
	want := []string{"2026-12-07", "2026-12-06", "2026-12-05", "2026-12-04", "2026-12-03", "2026-12-02", "2026-12-01", // daily
		"2026-11-29", "2026-11-22", // weekly: the newest of each of 4 ISO weeks (this one and the last end on days kept daily)
		"2026-11-30", "2026-10-31", "2026-09-30", "2026-08-31", "2026-07-31", "2026-06-30", "2026-05-31", "2026-04-30", "2026-03-31", "2026-02-28", "2026-01-31"} // monthly
	slices.Sort(days)
	slices.Sort(want)
	if !slices.Equal(days, want) {
		t.Errorf("kept %v\nwant %v", days, want)
	}
	if k := kept(times[:1], Keep{}); !k[0] {
		t.Error("the only backup was not kept")
	}
}
