package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Destination is where backups are kept: a local directory (Dir) or an
// S3-compatible bucket (S3). The scheduler, the retention, the command line
// and the drill speak to both through it, so each works the same on both.
// A backup is made in a local directory first (Create) and then put into
// its destinations; whatever a Put leaves when it is interrupted never
// looks like a backup to List.
type Destination interface {
	// String names the destination without credentials: a directory or
	// s3://bucket/prefix.
	String() string
	// Where names the backup called name in the destination.
	Where(name string) string
	// Put stores the complete local backup at src under its own name
	// (the manifest last) and returns where it is.
	Put(ctx context.Context, src string) (string, error)
	// List names the complete backups, oldest first.
	List(ctx context.Context) ([]string, error)
	// Get makes the backup called name readable in a local directory,
	// downloading it into scratch if it is not local, and returns it.
	Get(ctx context.Context, name, scratch string) (string, error)
	// Remove removes the backup (or leftover) called name.
	Remove(ctx context.Context, name string) error
	// Leftovers names what interrupted backups left that was last
	// written before before.
	Leftovers(ctx context.Context, before time.Time) ([]string, error)
}

// Dir is a local backup directory as a Destination (another disk, a
// mounted share).
type Dir string

func (d Dir) String() string { return string(d) }

// Where is the backup's path.
func (d Dir) Where(name string) string { return filepath.Join(string(d), name) }

// Put copies the backup into the directory, unless it is made there.
func (d Dir) Put(_ context.Context, src string) (string, error) {
	if filepath.Clean(filepath.Dir(src)) == filepath.Clean(string(d)) {
		return src, nil
	}
	return CopyTo(src, string(d))
}

// List names the complete backups in the directory, oldest first.
func (d Dir) List(context.Context) ([]string, error) {
	all, err := List(string(d))
	for i, p := range all {
		all[i] = filepath.Base(p)
	}
	return all, err
}

// Get returns the backup's path: it is local already.
func (d Dir) Get(_ context.Context, name, _ string) (string, error) { return d.Where(name), nil }

// Remove removes the backup's directory.
func (d Dir) Remove(_ context.Context, name string) error { return os.RemoveAll(d.Where(name)) }

// Leftovers names the hidden directories of interrupted backups.
func (d Dir) Leftovers(_ context.Context, before time.Time) ([]string, error) {
	partial, err := filepath.Glob(filepath.Join(string(d), tmpPrefix+"*"))
	var out []string
	for _, p := range partial {
		if st, err := os.Stat(p); err == nil && st.ModTime().Before(before) {
			out = append(out, filepath.Base(p))
		}
	}
	return out, err
}

// Locate splits a backup's location into its destination and name: a
// local path, or s3://bucket/prefix/custos-… . An S3 location without a
// backup's name means the newest backup under it.
func Locate(ctx context.Context, location string, s3 S3Config) (Destination, string, error) {
	if !IsS3(location) {
		p := filepath.Clean(location)
		return Dir(filepath.Dir(p)), filepath.Base(p), nil
	}
	trimmed := strings.TrimRight(location, "/")
	parent, name := trimmed, ""
	if i := strings.LastIndex(trimmed, "/"); i > len("s3://") && strings.HasPrefix(trimmed[i+1:], Prefix) {
		parent, name = trimmed[:i], trimmed[i+1:]
	}
	d, err := NewS3(parent, s3)
	if err != nil {
		return nil, "", err
	}
	if name != "" {
		return d, name, nil
	}
	all, err := d.List(ctx)
	if err != nil {
		return nil, "", err
	}
	if len(all) == 0 {
		return nil, "", fmt.Errorf("backup: %s holds no complete backup", d)
	}
	return d, all[len(all)-1], nil
}
