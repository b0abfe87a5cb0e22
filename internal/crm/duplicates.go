package crm

import (
	"strconv"
	"strings"
	"time"
)

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

// The statuses of a candidate pair: open until someone merges the two
// records or dismisses the pair as not a duplicate.
const (
	DupPairOpen      = "open"
	DupPairDismissed = "dismissed"
	DupPairMerged    = "merged"
)

// Which record's value a merge keeps for a field.
const (
	KeepSurvivor = "survivor"
	KeepMerged   = "merged"
)

// MergeRequest asks to merge one record (merged) into another (survivor).
// Fields says, per field (a custom value as "custom.<key>"), whose value
// the survivor keeps; a field left out keeps the survivor's value unless it
// is empty and the merged record's is not. The versions are those the user
// compared: a record changed since is refused as stale.
type MergeRequest struct {
	SurvivorID      int64             `json:"survivor_id"`
	MergedID        int64             `json:"merged_id"`
	SurvivorVersion int64             `json:"survivor_version"`
	MergedVersion   int64             `json:"merged_version"`
	Fields          map[string]string `json:"fields,omitempty"`
}

// Merge is one merge as recorded: which record survived, which went to the
// recycle bin, the fields the survivor took from it, and how many related
// records moved. Undone merges keep their row, with who undid them.
type Merge struct {
	ID            int64      `json:"id"`
	Object        Object     `json:"object"`
	SurvivorID    int64      `json:"survivor_id"`
	MergedID      int64      `json:"merged_id"`
	SurvivorTitle string     `json:"survivor_title,omitempty"`
	MergedTitle   string     `json:"merged_title,omitempty"`
	Fields        []string   `json:"fields"`
	Moved         int        `json:"moved"`
	CreatedBy     int64      `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	UndoneBy      int64      `json:"undone_by,omitempty"`
	UndoneAt      *time.Time `json:"undone_at,omitempty"`
}

// Cursor names the pair as the place a page of pairs ends
// ("<score>_<id_a>_<id_b>"), for the next page to start after it. The
// score is written in full precision, so the cursor finds it again exactly.
func (p DupPair) Cursor() string {
	return strconv.FormatFloat(p.Score, 'g', -1, 64) + "_" + strconv.FormatInt(p.IDA, 10) + "_" + strconv.FormatInt(p.IDB, 10)
}

// ParseDupCursor reads a cursor made by Cursor ("" is none); a malformed
// one is refused naming the parameter "after".
func ParseDupCursor(s string) (*DupPair, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "_")
	if len(parts) == 3 {
		score, err1 := strconv.ParseFloat(parts[0], 64)
		a, err2 := strconv.ParseInt(parts[1], 10, 64)
		b, err3 := strconv.ParseInt(parts[2], 10, 64)
		if err1 == nil && err2 == nil && err3 == nil && score >= 0 && score <= 1 && a > 0 && b > 0 {
			return &DupPair{Score: score, IDA: a, IDB: b}, nil
		}
	}
	var p Problems
	p.Add("after", "format")
	return nil, p.Err()
}
