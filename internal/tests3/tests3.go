// Package tests3 runs an S3-compatible server for tests: gofakes3 with an
// in-memory backend behind a real HTTP listener, so backups to a bucket
// are tested over the real protocol (signed requests, multipart uploads,
// listings, XML errors) without a network service. It is imported only by
// tests.
package tests3

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"custos/internal/backup"
)

// Server is a running S3-compatible server with one bucket.
type Server struct {
	Endpoint  string // host:port
	Bucket    string
	AccessKey string
	SecretKey string
	http      *httptest.Server

	mu   sync.Mutex
	fail func(*http.Request) bool
}

// Start starts a server with the bucket "custos-backups"; it stops when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	mem := s3mem.New()
	s := &Server{Bucket: "custos-backups", AccessKey: "AKIATESTCUSTOS", SecretKey: "test-secret-9f8e7d6c5b4a"}
	if err := mem.CreateBucket(s.Bucket); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(mem, gofakes3.WithTimeSkewLimit(0)).Server()
	s.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// gofakes3 does not check signatures; the access key at least
		// must be the one given out, as a real service would refuse it.
		if !strings.Contains(r.Header.Get("Authorization"), "Credential="+s.AccessKey+"/") {
			s3Error(w, http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
			return
		}
		s.mu.Lock()
		fail := s.fail
		s.mu.Unlock()
		if fail != nil && fail(r) {
			s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(s.http.Close)
	s.Endpoint = strings.TrimPrefix(s.http.URL, "http://")
	return s
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>` + msg + `</Message></Error>`))
}

// FailWhen makes the server answer 500 to the requests f picks (nil: none).
func (s *Server) FailWhen(f func(*http.Request) bool) {
	s.mu.Lock()
	s.fail = f
	s.mu.Unlock()
}

// Close stops the server: every request fails to connect.
func (s *Server) Close() { s.http.Close() }

// Location is s3://bucket/prefix.
func (s *Server) Location(prefix string) string { return "s3://" + s.Bucket + "/" + prefix }

// Config reaches the server over plain HTTP with its keys, one try per
// request (a failure is not retried for seconds).
func (s *Server) Config() backup.S3Config {
	return backup.S3Config{Endpoint: s.Endpoint, Region: "us-east-1", AccessKey: s.AccessKey, SecretKey: s.SecretKey, Insecure: true, MaxRetries: 1}
}

// Destination opens the bucket under prefix.
func (s *Server) Destination(t testing.TB, prefix string) *backup.S3 {
	t.Helper()
	d, err := backup.NewS3(s.Location(prefix), s.Config())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Env is the environment custos needs to reach the server.
func (s *Server) Env() map[string]string {
	return map[string]string{"CUSTOS_BACKUP_S3_ENDPOINT": s.Endpoint, "CUSTOS_BACKUP_S3_REGION": "us-east-1", "CUSTOS_BACKUP_S3_INSECURE": "true",
		"CUSTOS_BACKUP_S3_ACCESS_KEY": s.AccessKey, "CUSTOS_BACKUP_S3_SECRET_KEY": s.SecretKey}
}
