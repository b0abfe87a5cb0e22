package backup

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"custos/internal/audit"
)

// Keep is a retention: how many daily, weekly and monthly backups stay —
// the newest of each of the last Daily days, Weekly ISO weeks and Monthly
// months that have one. The newest backup always stays.
type Keep struct {
	Daily, Weekly, Monthly int
}

// DefaultKeep keeps 7 daily, 4 weekly and 12 monthly backups.
var DefaultKeep = Keep{Daily: 7, Weekly: 4, Monthly: 12}

// TakenAt reads when a backup was taken from its directory name.
func TakenAt(dir string) (time.Time, bool) {
	t, err := time.Parse("20060102T150405.000Z", strings.TrimPrefix(filepath.Base(dir), Prefix))
	return t, err == nil
}

// kept says which of times (newest first) keep holds.
func kept(times []time.Time, keep Keep) []bool {
	out := make([]bool, len(times))
	if len(times) > 0 {
		out[0] = true
	}
	bucket := func(n int, key func(time.Time) string) {
		seen := map[string]bool{}
		for i, t := range times {
			k := key(t.UTC())
			if seen[k] {
				continue
			}
			if len(seen) == n {
				return
			}
			seen[k], out[i] = true, true
		}
	}
	bucket(keep.Daily, func(t time.Time) string { return t.Format("2006-01-02") })
	bucket(keep.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-%02d", y, w) })
	bucket(keep.Monthly, func(t time.Time) string { return t.Format("2006-01") })
	return out
}

// Prune removes the backups in d that keep does not hold, and what
// backups killed half-way left (hidden, and untouched for a day); it
// returns where what it removed was.
func Prune(ctx context.Context, d Destination, keep Keep, now time.Time) ([]string, error) {
	all, err := d.List(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	var times []time.Time
	for i := len(all) - 1; i >= 0; i-- { // newest first
		if t, ok := TakenAt(all[i]); ok {
			names, times = append(names, all[i]), append(times, t)
		}
	}
	for i, k := range kept(times, keep) {
		if k {
			names[i] = ""
		}
	}
	partial, err := d.Leftovers(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, name := range append(names, partial...) {
		if name == "" {
			continue
		}
		if err := d.Remove(ctx, name); err != nil {
			return removed, err
		}
		removed = append(removed, d.Where(name))
	}
	return removed, nil
}

// CopyTo copies the backup at src into dstDir (another disk, a mounted
// share), under a temporary name renamed when complete, and returns the
// copy's path.
func CopyTo(src, dstDir string) (string, error) {
	if err := os.MkdirAll(dstDir, 0o700); err != nil {
		return "", err
	}
	name := filepath.Base(src)
	tmp := filepath.Join(dstDir, tmpPrefix+name)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return "", err
	}
	for _, f := range []string{DataFile, ManifestFile} { // the manifest last
		if err := copyFile(filepath.Join(src, f), filepath.Join(tmp, f)); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("backup: copy to %s: %w", dstDir, err)
		}
	}
	final := filepath.Join(dstDir, name)
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return final, audit.SyncDir(dstDir)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
