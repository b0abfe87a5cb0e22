package backup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3Config says how to reach an S3-compatible service. The keys never
// appear in a location, a log line or an error.
type S3Config struct {
	Endpoint  string // host[:port]
	Region    string // empty: asked of the service
	AccessKey string
	SecretKey string
	// Insecure speaks plain HTTP: for tests and a service on the same
	// machine only.
	Insecure bool
	// MaxRetries bounds the tries of one request (0: the client's 10).
	MaxRetries int
	Transport  http.RoundTripper // nil: the default
}

// IsS3 says whether a location names an S3 bucket (s3://…).
func IsS3(location string) bool { return strings.HasPrefix(location, "s3://") }

// ParseS3URL splits s3://bucket/prefix into the bucket and the prefix
// (without slashes at either end). Credentials in the URL are refused:
// they belong in CUSTOS_BACKUP_S3_ACCESS_KEY and _SECRET_KEY.
func ParseS3URL(location string) (bucket, prefix string, err error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "s3" {
		return "", "", errors.New("an S3 location is s3://bucket/prefix")
	}
	if u.User != nil {
		return "", "", errors.New("an S3 location must not hold credentials: set CUSTOS_BACKUP_S3_ACCESS_KEY and CUSTOS_BACKUP_S3_SECRET_KEY (or their _FILE variants)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", errors.New("an S3 location is s3://bucket/prefix, without ? or #")
	}
	if err := s3utils.CheckValidBucketNameStrict(u.Host); err != nil {
		return "", "", fmt.Errorf("s3://%s: %w", u.Host, err)
	}
	prefix = strings.Trim(u.Path, "/")
	if strings.Contains(prefix, "//") || slices.Contains(strings.Split(prefix, "/"), "..") {
		return "", "", fmt.Errorf("s3://%s/%s: a prefix has no empty or .. parts", u.Host, prefix)
	}
	return u.Host, prefix, nil
}

// S3 is a bucket (under a prefix) as a Destination. A backup is the
// objects <prefix>/custos-…/data.age and …/manifest.note, the manifest put
// last: only a backup whose manifest exists is listed, and the manifest's
// size and SHA-256 of data.age are checked before anything is read.
type S3 struct {
	client         *minio.Client
	bucket, prefix string
}

// NewS3 opens the bucket at location (s3://bucket/prefix) with c.
func NewS3(location string, c S3Config) (*S3, error) {
	bucket, prefix, err := ParseS3URL(location)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return nil, errors.New("backup: an S3 destination needs CUSTOS_BACKUP_S3_ACCESS_KEY and CUSTOS_BACKUP_S3_SECRET_KEY (or their _FILE variants)")
	}
	client, err := minio.New(c.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure: !c.Insecure, Region: c.Region, MaxRetries: c.MaxRetries, Transport: c.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("backup: S3 endpoint %q: %w", c.Endpoint, err)
	}
	return &S3{client: client, bucket: bucket, prefix: prefix}, nil
}

func (s *S3) String() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + s.prefix
}

// Where is the backup's s3:// location.
func (s *S3) Where(name string) string { return s.String() + "/" + name }

// key names an object of a backup.
func (s *S3) key(parts ...string) string {
	if s.prefix != "" {
		parts = append([]string{s.prefix}, parts...)
	}
	return path.Join(parts...)
}

// Put uploads data.age, then the manifest; if either fails, what was
// uploaded is removed (and, should that fail too, a backup without its
// manifest is not listed and the retention removes it a day later).
func (s *S3) Put(ctx context.Context, src string) (string, error) {
	name := filepath.Base(src)
	for _, f := range []string{DataFile, ManifestFile} { // the manifest last
		_, err := s.client.FPutObject(ctx, s.bucket, s.key(name, f), filepath.Join(src, f),
			minio.PutObjectOptions{ContentType: "application/octet-stream"})
		if err != nil {
			cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			s.Remove(cleanup, name)
			cancel()
			return "", fmt.Errorf("backup: upload to %s: %s: %w", s, f, err)
		}
	}
	return s.Where(name), nil
}

// objects lists the backups' objects under the prefix, by backup name.
func (s *S3) objects(ctx context.Context) (map[string][]minio.ObjectInfo, error) {
	root := s.key() + "/"
	if s.prefix == "" {
		root = ""
	}
	ctx, cancel := context.WithCancel(ctx) // stops the listing when it is left early
	defer cancel()
	out := map[string][]minio.ObjectInfo{}
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: root + Prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("backup: list %s: %w", s, o.Err)
		}
		name, _, ok := strings.Cut(strings.TrimPrefix(o.Key, root), "/")
		if ok {
			out[name] = append(out[name], o)
		}
	}
	return out, nil
}

func hasManifest(objs []minio.ObjectInfo) bool {
	return slices.ContainsFunc(objs, func(o minio.ObjectInfo) bool { return path.Base(o.Key) == ManifestFile })
}

// List names the backups whose manifest was uploaded, oldest first.
func (s *S3) List(ctx context.Context) ([]string, error) { return s.names(ctx, hasManifest) }

// names names the backups whose objects pick holds, in order.
func (s *S3) names(ctx context.Context, pick func([]minio.ObjectInfo) bool) ([]string, error) {
	all, err := s.objects(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for name, objs := range all {
		if pick(objs) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Get downloads the backup into scratch/name.
func (s *S3) Get(ctx context.Context, name, scratch string) (string, error) {
	dir := filepath.Join(scratch, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	for _, f := range []string{ManifestFile, DataFile} {
		if err := s.client.FGetObject(ctx, s.bucket, s.key(name, f), filepath.Join(dir, f), minio.GetObjectOptions{}); err != nil {
			return "", fmt.Errorf("backup: download %s: %s: %w", s.Where(name), f, err)
		}
	}
	return dir, nil
}

// Remove removes the backup's manifest first, so a removal cut short
// leaves no backup that looks complete, then its other objects.
func (s *S3) Remove(ctx context.Context, name string) error {
	all, err := s.objects(ctx)
	if err != nil {
		return err
	}
	objs := all[name]
	slices.SortStableFunc(objs, func(a, b minio.ObjectInfo) int {
		return boolInt(path.Base(b.Key) == ManifestFile) - boolInt(path.Base(a.Key) == ManifestFile)
	})
	for _, o := range objs {
		if err := s.client.RemoveObject(ctx, s.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("backup: remove %s: %w", s.Where(name), err)
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Leftovers names the backups without a manifest whose objects were all
// written before before.
func (s *S3) Leftovers(ctx context.Context, before time.Time) ([]string, error) {
	return s.names(ctx, func(objs []minio.ObjectInfo) bool {
		return !hasManifest(objs) && !slices.ContainsFunc(objs, func(o minio.ObjectInfo) bool { return !o.LastModified.Before(before) })
	})
}
