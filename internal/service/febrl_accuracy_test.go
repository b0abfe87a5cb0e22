//go:build accuracy

package service_test

import (
	"strings"
	"testing"
	"time"

	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestFebrlAccuracy prints the finder's precision, recall and F1 at the
// default rules on every Febrl set (docs/accuracy.md). It loads about
// 26,000 contacts through the service, so it is kept out of the default
// run: go test -tags accuracy ./internal/service -run TestFebrlAccuracy -v
func TestFebrlAccuracy(t *testing.T) {
	sets := [][]string{{"dataset1.csv"}, {"dataset2.csv"}, {"dataset3.csv"}, {"dataset4a.csv", "dataset4b.csv"}}
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		for _, files := range sets {
			t.Run(strings.Join(files, "+"), func(t *testing.T) {
				// A fresh organisation per set: the sets share rec_ids.
				o := testorg.New(t, testdb.Open(t, db.Dialect()))
				start := time.Now()
				set := loadFebrl(t, o, files...)
				loaded := time.Since(start)
				res := scanFebrl(t, o, set)
				t.Logf("%s: %v (rows without a name, not loaded: %d; dates of birth dropped as not calendar dates: %d; "+
					"load %v, scan %v)", strings.Join(files, "+"), res, set.nameless, set.dobDropped, loaded.Round(time.Millisecond),
					(time.Since(start) - loaded).Round(time.Millisecond))
				if res.f1 < 0.99 {
					t.Errorf("F1 %.4f below the target 0.99", res.f1)
				}
			})
		}
	})
}
