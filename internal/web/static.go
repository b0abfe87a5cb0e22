package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

// assets are the embedded static files under content-hash names
// ("app.css" → "/static/app.1a2b3c4d5e.css"). A changed file gets a new URL,
// so every URL can be cached for a year and never goes stale.
type assets struct {
	urls  map[string]string // logical name → URL
	files map[string]asset  // hashed path below /static/ → content
}

type asset struct {
	body        []byte
	contentType string
}

func loadAssets() (*assets, error) {
	a := &assets{urls: map[string]string{}, files: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		a.urls[name] = "/static/" + hashed
		a.files[hashed] = asset{body: body, contentType: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, must := range []string{"app.css", "app.js", htmxFile} {
		if _, ok := a.urls[must]; !ok {
			return nil, fmt.Errorf("missing static file %s", must)
		}
	}
	return a, nil
}

// htmxFile is the vendored, pinned htmx (no CDN: Custos runs air-gapped).
const htmxFile = "vendor/htmx-2.0.11.min.js"

// url is the template function "asset": the content-hash URL of a static
// file. An unknown name fails the template, so a typo is caught by tests.
func (a *assets) url(name string) (string, error) {
	u, ok := a.urls[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return u, nil
}

// serveStatic serves a file by its hashed name with a year-long immutable
// cache lifetime; the old name of a changed file is simply not found.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.assets.files[r.PathValue("path")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(f.body)
}
