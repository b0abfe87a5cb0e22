package crm

import "time"

// DupScan is one run of the duplicate finder over an object's live records
// (issue 14 §3): what it read, how many blocking keys it filed, how many
// oversized blocks it skipped, how many candidate pairs it compared and how
// many it kept.
type DupScan struct {
	ID            int64      `json:"id"`
	Object        Object     `json:"object"`
	Status        string     `json:"status"` // running, done, failed
	Threshold     float64    `json:"threshold"`
	StartedAt     time.Time  `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	Records       int64      `json:"records"`
	Keys          int64      `json:"keys"`
	BlocksSkipped int64      `json:"blocks_skipped"`
	Candidates    int64      `json:"candidates"`
	Pairs         int64      `json:"pairs"`
}

// The statuses of a scan.
const (
	DupScanRunning = "running"
	DupScanDone    = "done"
	DupScanFailed  = "failed"
)

// DupPair is a pair of records the finder scored as possible duplicates,
// IDA < IDB. Reasons explain the score by field name and similarity, never
// by value, so they hold no personal data.
type DupPair struct {
	ScanID  int64   `json:"scan_id"`
	Object  Object  `json:"object"`
	IDA     int64   `json:"id_a"`
	IDB     int64   `json:"id_b"`
	Score   float64 `json:"score"`
	Reasons string  `json:"reasons"`
	Status  string  `json:"status"` // open (merge and dismissal come later)
	TitleA  string  `json:"title_a,omitempty"`
	TitleB  string  `json:"title_b,omitempty"`
}
